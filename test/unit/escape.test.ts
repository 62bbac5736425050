import { describe, expect, it } from 'vitest';
import { apacheArg, apacheDirectory, apacheOption, ApacheValueError } from '../../src/escape/apache.js';
import { pyList, pyStr } from '../../src/escape/python.js';

describe('pyStr', () => {
  it.each([
    ['/srv/trac', "u'/srv/trac'"],
    ["it's", "u'it\\'s'"],
    ['a\\b', "u'a\\\\b'"],
    ['ünï', "u'\\xfcn\\xef'"],
    ['日本', "u'\\u65e5\\u672c'"],
    ['🐍', "u'\\U0001f40d'"],
    ['line\nbreak\ttab\r', "u'line\\nbreak\\ttab\\r'"],
    ['\x00\x7f', "u'\\x00\\x7f'"],
    ['$HOME 100% "q"', `u'$HOME 100% "q"'`],
  ])('%j -> %s', (input, expected) => {
    expect(pyStr(input)).toBe(expected);
  });

  it('is pure ASCII whatever the input', () => {
    expect(pyStr('ä€𝄞\u2028')).toMatch(/^[\x20-\x7e]+$/);
  });

  it('pyList joins literals', () => {
    expect(pyList(['a', "b'"])).toBe("[u'a', u'b\\'']");
  });
});

describe('Apache arguments', () => {
  it.each([
    ['/srv/trac', '"/srv/trac"'],
    ['/srv/my dir', '"/srv/my dir"'],
    ['/srv/"q"', '"/srv/\\"q\\""'],
    ['/srv/$x 100%', '"/srv/$x 100%"'],
    ['/srv/ünï', '"/srv/ünï"'],
    ['/a\\b', '"/a\\b"'],
  ])('apacheArg(%j) = %s', (input, expected) => {
    expect(apacheArg(input)).toBe(expected);
  });

  it.each([
    ['/srv/a\nb', 'line break'],
    ['/srv/${HOME}', '${'],
    ['/srv/a\\', 'backslash'],
    ['', 'empty'],
  ])('apacheArg refuses %j (%s)', (input, reason) => {
    expect(() => apacheArg(input)).toThrow(ApacheValueError);
    expect(() => apacheArg(input)).toThrow(reason);
  });

  it('apacheDirectory refuses wildcard characters', () => {
    expect(apacheDirectory('/srv/x')).toBe('"/srv/x"');
    expect(() => apacheDirectory('/srv/*')).toThrow('wildcards');
    expect(() => apacheDirectory('/srv/a?')).toThrow('wildcards');
  });

  it('apacheOption quotes the value only', () => {
    expect(apacheOption('python-home', '/srv/my venv')).toBe('python-home="/srv/my venv"');
    expect(() => apacheOption('Bad Key', 'x')).toThrow('option name');
  });
});

describe('values shown in one-line messages', () => {
  it('prints a printable value as typed and anything else in JSON quotes', async () => {
    const { shown } = await import('../../src/errors.js');
    expect(shown('/srv/my "venv" é')).toBe('/srv/my "venv" é');
    expect(shown('/srv/a\nb')).toBe('"/srv/a\\nb"');
    expect(shown('/srv/\0')).toBe('"/srv/\\u0000"');
    expect(shown('/srv/\x1b[31m')).toBe('"/srv/\\u001b[31m"');
    expect(shown('/srv/\ud800')).toBe('"/srv/\\ud800"');
  });
});
