// Wall time of a whole `trac-deploy smoke` run (CLI start, Apache start, requests, stop), as a
// user or CI sees it, median of several runs. Every run starts a fresh Apache, so Trac's first
// request (imports, environment open) is always included. Goal: under 3 s on 2 cores.
import { execa } from 'execa';
import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { VENV } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin', 'trac-deploy.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const GOAL_MS = 3000;

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-bench-'));
await fs.chmod(work, 0o755);
try {
  const env = path.join(work, 'env');
  const parent = path.join(work, 'projects');
  await execa(path.join(VENV, 'bin', 'trac-admin'), [env, 'initenv', 'Bench Project', 'sqlite:db/trac.db']);
  await fs.mkdirp(parent);
  for (const name of ['alpha', 'beta', 'gamma']) {
    await execa(path.join(VENV, 'bin', 'trac-admin'), [path.join(parent, name), 'initenv', `Project ${name}`, 'sqlite:db/trac.db']);
  }
  // An environment that uses more than its front page: an svn repository and an attachment.
  const used = path.join(work, 'used');
  const repo = path.join(work, 'repo');
  await execa('svnadmin', ['create', repo]);
  await execa('svn', ['mkdir', '-q', '-m', 'trunk', `file://${repo}/trunk`]);
  await execa(path.join(VENV, 'bin', 'trac-admin'), [used, 'initenv', 'Used Project', 'sqlite:db/trac.db']);
  for (const [section, key, value] of [['components', 'tracopt.versioncontrol.svn.*', 'enabled'], ['repositories', 'main.dir', repo], ['repositories', 'main.type', 'svn']]) {
    await execa(path.join(VENV, 'bin', 'trac-admin'), [used, 'config', 'set', section, key, value]);
  }
  await fs.writeFile(path.join(work, 'notes.txt'), 'x'.repeat(100_000));
  await execa(path.join(VENV, 'bin', 'trac-admin'), [used, 'attachment', 'add', 'wiki:WikiStart', path.join(work, 'notes.txt')]);
  if (process.getuid?.() === 0) await execa('chown', ['-R', 'www-data:www-data', work]);
  await execa('node', [CLI, 'generate', used, '--out', path.join(work, 'out-used'), '--python-home', VENV]);
  await execa('node', [CLI, 'generate', env, '--out', path.join(work, 'out-env'), '--python-home', VENV]);
  await execa('node', [CLI, 'generate', parent, '--out', path.join(work, 'out-parent'), '--python-home', VENV]);

  const cases = [
    ['smoke --hello, one environment', [path.join(work, 'out-env'), '--hello']],
    ['smoke, one environment (Trac first request)', [path.join(work, 'out-env')]],
    ['smoke, parent of three (index + every page of each)', [path.join(work, 'out-parent')]],
    ['smoke, one environment with an svn repository and an attachment', [path.join(work, 'out-used')]],
  ].filter(([label]) => !process.env.BENCH_ONLY || label.includes(process.env.BENCH_ONLY));
  let over = false;
  for (const [label, args] of cases) {
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const result = await execa('node', [CLI, 'smoke', ...args, '--json'], { reject: false });
      times.push(performance.now() - t);
      if (result.exitCode !== 0) throw new Error(`${label}: smoke failed (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    const verdict = median < GOAL_MS ? 'under' : 'OVER';
    if (median >= GOAL_MS) over = true;
    console.log(
      `${label}: median ${(median / 1000).toFixed(2)} s of ${RUNS} runs (min ${(times[0] / 1000).toFixed(2)}, max ${(times.at(-1) / 1000).toFixed(2)}), ${verdict} the ${GOAL_MS / 1000} s goal`,
    );
  }
  process.exitCode = over ? 1 : 0;
} finally {
  await fs.remove(work);
}
