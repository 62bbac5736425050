import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * Six processes race for apply's lock, a lock left by a killed run in place each time. Each
 * winner logs "in <pid>" and "out <pid>" around a hold of 50 ms; two holders at once would
 * interleave those lines. The old scheme (rename the stale lock away, re-create) let two runs
 * hold it at once in 9 of 20 trials.
 */
const RACER = `
import fs from 'node:fs';
import { takeLock } from ${JSON.stringify(path.join(ROOT, 'dist', 'apply', 'lock.js'))};
const [dir, log] = process.argv.slice(1);
let lock;
try { lock = await takeLock(dir); } catch (e) { process.exit(3); }
fs.appendFileSync(log, 'in ' + process.pid + '\\n');
await new Promise((r) => setTimeout(r, 50));
fs.appendFileSync(log, 'out ' + process.pid + '\\n');
await lock.release();
`;

describe('apply lock', () => {
  it("never has two holders: 8 trials of 6 processes, a dead run's lock in place", async () => {
    const dir = await tempDir();
    let winners = 0;
    for (let trial = 0; trial < 8; trial++) {
      const state = path.join(dir, `state-${trial}`);
      await fs.mkdirp(state);
      await fs.writeFile(path.join(state, 'lock'), '999999999\n');
      const log = path.join(state, 'log');
      await fs.writeFile(log, '');
      const runs = await Promise.all(
        Array.from({ length: 6 }, () => execa('node', ['--input-type=module', '-e', RACER, state, log], { reject: false, stdin: 'ignore' })),
      );
      for (const r of runs) expect([0, 3], r.stderr).toContain(r.exitCode);
      const lines = (await fs.readFile(log, 'utf8')).trim().split('\n').filter(Boolean);
      expect(lines.length % 2).toBe(0);
      for (let i = 0; i < lines.length; i += 2) {
        const pid = lines[i]?.split(' ')[1];
        expect(lines[i]).toBe(`in ${pid}`);
        expect(lines[i + 1], lines.join(' | ')).toBe(`out ${pid}`);
      }
      expect(lines.length).toBeGreaterThan(0);
      winners += lines.length / 2;
    }
    expect(winners).toBeGreaterThanOrEqual(8);
  }, 120000);

  it('is free again when its holder is killed with SIGKILL', async () => {
    const dir = await tempDir();
    const holder = execa('node', ['--input-type=module', '-e', `import { takeLock } from ${JSON.stringify(path.join(ROOT, 'dist', 'apply', 'lock.js'))}; await takeLock(process.argv[1]); console.log('held'); setInterval(() => {}, 1000);`, dir], { reject: false, stdin: 'ignore' });
    await new Promise<void>((resolve) => holder.stdout?.on('data', (c: Buffer) => c.toString().includes('held') && resolve()));
    const busy = await execa('node', ['--input-type=module', '-e', RACER, dir, path.join(dir, 'log')], { reject: false, stdin: 'ignore' });
    expect(busy.exitCode).toBe(3);
    holder.kill('SIGKILL');
    await holder;
    let code: number | undefined = 3;
    for (let i = 0; i < 50 && code === 3; i++) {
      code = (await execa('node', ['--input-type=module', '-e', RACER, dir, path.join(dir, 'log')], { reject: false, stdin: 'ignore' })).exitCode;
      if (code === 3) await new Promise((r) => setTimeout(r, 100));
    }
    expect(code).toBe(0);
  }, 60000);
});
