import { execa } from 'execa';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

it('the sources type-check under strict settings', async () => {
  const result = await execa('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: ROOT, reject: false, stdin: 'ignore' });
  expect(String(result.stdout) + String(result.stderr)).toBe('');
  expect(result.exitCode).toBe(0);
});
