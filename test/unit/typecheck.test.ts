import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

// vitest strips types without checking them: a fake plan, target or inspection that no longer
// has the shape the code expects would pass here and mean nothing. The tests are compiled with
// the sources, under the same strict options.
describe('types', () => {
  it('the sources and the tests compile together (tsconfig.test.json)', async () => {
    const result = await execa(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'tsconfig.test.json')], { cwd: ROOT, reject: false });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  }, 300_000);
});
