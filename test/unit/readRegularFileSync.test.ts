import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRegularFileSync } from '../../src/inspect/readRegularFile.js';
import { tempDir } from '../helpers/tempDir.js';

/** readRegularFileSync reads into one buffer per thread: each text is its own file's, whole. */
describe('readRegularFileSync', () => {
  it('a shorter file after a longer one, an empty one, and files past the shared buffer', async () => {
    const dir = await tempDir();
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const long = 'x'.repeat(6000) + 'é\n';
    const files = [write('long', long), write('short', 'ab'), write('empty', ''), write('large', 'y'.repeat(70_000)), write('larger', 'z'.repeat(200_000)), write('after', 'cd')];
    expect(files.map((file) => readRegularFileSync(file))).toEqual([long, 'ab', '', 'y'.repeat(70_000), 'z'.repeat(200_000), 'cd']);
    expect(() => readRegularFileSync(files[4]!, 100_000)).toThrow(/larger than 100000 bytes/);
    expect(readRegularFileSync(files[1]!)).toBe('ab');
  });
});
