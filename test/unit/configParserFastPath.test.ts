import { describe, expect, it } from 'vitest';
import { parseIni, type IniParseResult } from '../../src/inspect/configParser.js';
import { lineByLineIni } from '../helpers/lineByLineIni.js';

/**
 * parseIni reads the text in place (printable-ASCII lines by position, others trimmed whole):
 * it must answer exactly as the line-by-line reading it replaced (test/helpers/lineByLineIni.ts,
 * checked against Trac when it was the parser), sections, options, their order and the errors.
 */
function plain(result: IniParseResult) {
  return { sections: [...result.sections].map(([name, options]) => [name, [...options]]), errors: result.errors };
}

function expectSame(text: string): void {
  expect(plain(parseIni(text)), JSON.stringify(text)).toEqual(plain(lineByLineIni(text)));
}

/** A small seeded generator (mulberry32): a failing case is named by its seed and reproduces. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseIni read in place answers as read line by line', () => {
  it('tricky lines', () => {
    const cases = [
      '',
      '\n',
      '\r\n\r\n',
      '[a]',
      '[a]\nk=v',
      '[a]\r\nk = v\r\n  more\r\n\r\n',
      '[a]\rk = v\r  more\r\rx: y\r',
      '[a]\n\r\nk = v\n\r  more\r\n\n',
      '[a]\nk =\n  v1\n\n  v2\n\n\nx=1',
      '[a]\n=v\n:v\nk\n k2 = v\n',
      '[a]\nk:v=w\nk2=v:w\nK3\t=\tv \t\n',
      '[a]\nKEY = Value\nkey = again\n',
      '[a]\n\tk = v\n\t\tk2 = v2\n  [b]\nk=v\n',
      '[a]\nk = v\n  [b]\n[b]\n[b] x]\n[a\n[]\n[ ]\n',
      'k = v\n[a]\n',
      '# c\n; c\n[a]\n  # indented\n\t; indented\nk = v ; inline\n#k = v\n',
      '[DEFAULT]\nd = 1\n[a]\nk = v\n[DEFAULT]\nd = 2\ne = 3\n[b]\n',
      '\ufeff[a]\nk = v\n',
      '[a]\nk = v\u00a0\n\u00a0k2 = v\n\u3000[b]\nk\u2028 = v\u2028w\n',
      '[a]\nk = v\x85\n\x85k2 = v\n\x1c[b]\nk\x1f = \x1fv\n',
      '[a]\nk = v\ufeff\n\ufeffk2 = v\n',
      '[a]\nk = v\v\f\n\vk2 = v\n\fk3 = v3\n',
      '[a]\nnäme = wért\nÉ = 1\n\u0130 = dotted\n',
      '[a]\nk = 😀\n😀 = v\n',
      '[a]\nk = v\n \n\t\n  continued\nz = 1\n',
      '[a]\nk = v\n  [c]\n  # note\n  x = y\n',
      '[a b]\n[a]b]\nk = [x]\n',
      '[a]\nk = v\x00w\n\x00k = v\n',
      '[a]\n\x7fk = v\nk\x7f = v\x7f\n',
      '[a]\nk = v\n' + 'x'.repeat(5000) + '=' + 'y'.repeat(5000) + '\n',
      '[a]\nx = 1\n[b]\ny = 1\n[a]\nx = 1\n',
      '[a]\nx = 1\n[a]\nx = 1',
      '[a]\nk = v\n  more\n[b]\nk = v\n  more\n',
      '[a]\nk = v\n[a\nk = v\n[b]\nk = v\n[a\nk = v\n',
      '[a]\nk = v\n  [c]\nk = v\n[b]\nk = v\n  [c]\nk = v\n',
      '[a]\rx = 1\r[b]\ry = 2\r[a]\rz = 3\r',
      '[a]\n[]\n[]]\n[ ]\n[a]]\n[a] b] c\n[x\u2028y]\n[x]\u2028y]\n[x\u2029]y]\nk = v\n[\u2028]\n[[a]]\n',
      '[a]\r\nx = 1\r\n[b]\r\ny = 2\r\n[a]\nz = 3\r\n',
    ];
    // Twice each: the second time, blocks read the first time are known.
    for (const text of [...cases, ...cases]) expectSame(text);
  });

  it('random texts of the characters that decide a line', () => {
    const pieces = ['\n', '\n', '\n', '\r\n', '\r', ' ', ' ', '\t', '  ', '#', ';', '[', ']', '=', ':', '=', 'k', 'K', 'v', 'name', 'DEFAULT', '[a]\n', '[b]\n', '[DEFAULT]\n', 'x = y\n', ' = ', ': ', 'é', '\u00a0', '\u3000', '\u2028', '\x85', '\x1c', '\ufeff', '\v', '\f', '\x00'];
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed);
      let text = next() < 0.7 ? '[s]\n' : '';
      const length = 1 + Math.floor(next() * 60);
      for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)];
      expectSame(text);
    }
  });

  it('blocks read before (kept by their text): taken again as read, in any section, with their errors', () => {
    const blocks = ['\nx = 1\ny = 2\n', '\nx = 1\n  more\n\n', '\nX: 1\n# c\n\n', '\n', '', '\nx = 1\nx = 2\n', '\n  [inner]\nz = 1\n', '\nnot an option\n', '\nx = 1\n\ty = 1\n', '\n\ufeffx = 1\n', '\nx = 1\n\n\n'];
    const headers = ['[a]', '[b]', '[DEFAULT]', '[a]', '[bad', '  [c]'];
    for (let seed = 1; seed <= 2000; seed++) {
      const next = random(seed);
      let text = '';
      const count = 1 + Math.floor(next() * 6);
      for (let i = 0; i < count; i++) text += headers[Math.floor(next() * headers.length)]! + blocks[Math.floor(next() * blocks.length)]!;
      if (next() < 0.3) text = text.replace(/\n$/, '');
      // Each text twice: the second time, its blocks are all known.
      expectSame(text);
      expectSame(text);
    }
  });

  it('initenv\'s trac.ini, and it with every line ending and indentation', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { ROOT } = await import('../helpers/paths.js');
    const candidates = ['fixtures', 'test/fixtures'].map((dir) => path.join(ROOT, dir));
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.ini')) files.push(file);
      }
    };
    candidates.forEach(walk);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      const variants = [text, text.replace(/\n/g, '\r\n'), text.replace(/\n/g, '\r'), text.replace(/\n/g, '\n  ')];
      // One option changed in one block, the others known from the text before.
      const changed = text.replace(/^(\w+\s*=).*$/m, '$1 changed');
      for (const variant of [...variants, changed, text, changed]) expectSame(variant);
    }
  });
});
