import { describe, expect, it } from 'vitest';
import { fillIni, iniBool, iniGet, iniList, mergeIni, parseIni } from '../../src/inspect/configParser.js';

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

  it('handles CRLF line ends; a BOM is refused as Python refuses it (MissingSectionHeaderError), the rest still read', () => {
    expect(parseIni('[a]\r\nk = v\r\n')).toEqual({ sections: new Map([['a', new Map([['k', 'v']])]]), errors: [] });
    const { sections, errors } = parseIni('\uFEFF[a]\r\nk = v\r\n');
    expect(iniGet(sections, 'a', 'k')).toBe('v');
    expect(errors).toEqual([expect.objectContaining({ line: 1, reason: expect.stringContaining('byte order mark') })]);
  });

  it('strict mode: a section or an option defined twice in one file is an error at its line; [DEFAULT] may repeat', () => {
    const { sections, errors } = parseIni('[a]\nx = 1\n[b]\n[a]\ny = 2\n');
    expect(errors).toEqual([expect.objectContaining({ line: 4, reason: expect.stringContaining('section [a] is defined again (first at line 1') })]);
    expect([...(sections.get('a') ?? [])]).toEqual([
      ['x', '1'],
      ['y', '2'],
    ]);
    expect(parseIni('[a]\nX = 1\n\nx = 2\n').errors).toEqual([expect.objectContaining({ line: 4, reason: expect.stringContaining('option "x" of [a] is defined again (DuplicateOptionError)') })]);
    expect(parseIni('[DEFAULT]\nx = 1\n[DEFAULT]\ny = 2\n').errors).toEqual([]);
    expect(parseIni('[DEFAULT]\nx = 1\n[DEFAULT]\nx = 2\n').errors.map((e) => e.line)).toEqual([4]);
    // Section names are case-sensitive: [a] and [A] are two sections.
    expect(parseIni('[a]\nx = 1\n[A]\nx = 2\n').errors).toEqual([]);
  });

  it('an indented header is a header unless it continues a value', () => {
    expect(iniGet(parseIni('[project]\n  [trac]\ndatabase = d\n').sections, 'trac', 'database')).toBe('d');
    const inValue = parseIni('[project]\nname = p\n  [trac]\ndatabase = d\n');
    expect(iniGet(inValue.sections, 'project', 'name')).toBe('p\n[trac]');
    expect(inValue.sections.has('trac')).toBe(false);
  });

  it('[DEFAULT] fills the file\'s other sections, after their own options', () => {
    const { sections } = parseIni('[DEFAULT]\ndatabase = d\nz = 0\n[trac]\ndatabase = own\n[project]\nname = p\n');
    expect([...(sections.get('trac') ?? [])]).toEqual([
      ['database', 'own'],
      ['z', '0'],
    ]);
    expect(iniGet(sections, 'project', 'database')).toBe('d');
    expect(sections.has('inherit')).toBe(false);
  });
});

describe('value helpers', () => {
  it('iniBool follows trac.util.as_bool', () => {
    expect(['yes', 'TRUE', 'enabled', 'on', '1', '2.5'].map(iniBool)).toEqual([true, true, true, true, true, true]);
    expect(['no', 'false', 'disabled', 'off', '0'].map(iniBool)).toEqual([false, false, false, false, false]);
    expect(iniBool('maybe')).toBeUndefined();
    expect(iniBool(undefined)).toBeUndefined();
  });

  it('iniList splits on commas only (as Trac) and drops empties', () => {
    expect(iniList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(iniList('a.ini\nb.ini, c.ini')).toEqual(['a.ini\nb.ini', 'c.ini']);
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

  it('fillIni keeps the first file\'s options and adds only what it lacks', () => {
    const first = parseIni('[a]\nx = 1\n').sections;
    const filled = fillIni(first, parseIni('[a]\nx = 2\ny = 2\n[b]\nz = 3\n').sections);
    expect(iniGet(filled, 'a', 'x')).toBe('1');
    expect(iniGet(filled, 'a', 'y')).toBe('2');
    expect(iniGet(filled, 'b', 'z')).toBe('3');
  });
});
