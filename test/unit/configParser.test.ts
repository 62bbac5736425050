import { describe, expect, it } from 'vitest';
import { iniBool, iniGet, iniList, mergeIni, parseIni } from '../../src/inspect/configParser.js';

describe('parseIni (Python configparser as Trac uses it)', () => {
  it('reads "=" and ":" delimiters, folds option case, keeps section case', () => {
    const { sections, errors } = parseIni('[Trac]\nDatabase = sqlite:db/trac.db\n[project]\nname: My: Project\n');
    expect(errors).toEqual([]);
    expect(iniGet(sections, 'Trac', 'database')).toBe('sqlite:db/trac.db');
    expect(iniGet(sections, 'trac', 'database')).toBeUndefined();
    expect(iniGet(sections, 'project', 'NAME')).toBe('My: Project');
  });

  it('joins continuation lines and keeps inner blank lines, trimming trailing ones', () => {
    const text = '[project]\ndescr = first\n    second\n\n    third\n\n\nname = x\n';
    const { sections } = parseIni(text);
    expect(iniGet(sections, 'project', 'descr')).toBe('first\nsecond\n\nthird');
    expect(iniGet(sections, 'project', 'name')).toBe('x');
  });

  it('ignores full-line comments with # and ; but not inline ones', () => {
    const { sections } = parseIni('# top\n[a]\n; note\nk = v ; not a comment\n  # indented comment\n');
    expect(iniGet(sections, 'a', 'k')).toBe('v ; not a comment');
  });

  it('splits at the first delimiter of either kind', () => {
    const { sections } = parseIni('[trac]\ndatabase = postgres://u:p@h:5432/db\n');
    expect(iniGet(sections, 'trac', 'database')).toBe('postgres://u:p@h:5432/db');
  });

  it('reports lines configparser would reject, with line numbers', () => {
    const { errors } = parseIni('orphan = 1\n[a]\njust words\n');
    expect(errors.map((e) => e.line)).toEqual([1, 3]);
  });

  it('handles a BOM and CRLF line ends', () => {
    const { sections } = parseIni('\uFEFF[a]\r\nk = v\r\n');
    expect(iniGet(sections, 'a', 'k')).toBe('v');
  });

  it('lets a later section repeat merge into the first', () => {
    const { sections } = parseIni('[a]\nx = 1\n[b]\n[a]\ny = 2\n');
    expect([...(sections.get('a') ?? [])]).toEqual([
      ['x', '1'],
      ['y', '2'],
    ]);
  });
});

describe('value helpers', () => {
  it('iniBool follows trac.util.as_bool', () => {
    expect(['yes', 'TRUE', 'enabled', 'on', '1', '2.5'].map(iniBool)).toEqual([true, true, true, true, true, true]);
    expect(['no', 'false', 'disabled', 'off', '0'].map(iniBool)).toEqual([false, false, false, false, false]);
    expect(iniBool('maybe')).toBeUndefined();
    expect(iniBool(undefined)).toBeUndefined();
  });

  it('iniList splits on commas and drops empties', () => {
    expect(iniList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(iniList(undefined)).toEqual([]);
  });

  it('mergeIni layers options, the second winning', () => {
    const base = parseIni('[a]\nx = 1\ny = 1\n').sections;
    const over = parseIni('[a]\ny = 2\n[b]\nz = 3\n').sections;
    const merged = mergeIni(base, over);
    expect(iniGet(merged, 'a', 'x')).toBe('1');
    expect(iniGet(merged, 'a', 'y')).toBe('2');
    expect(iniGet(merged, 'b', 'z')).toBe('3');
  });
});
