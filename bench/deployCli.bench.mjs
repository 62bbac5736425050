// Bench 3: CLI speed. trac-admin ENV deploy vs trac-deploy deploy on the same environment
// (median of RUNS runs each, wall time and peak memory), and trac-deploy generate.
import fs from 'node:fs';
import path from 'node:path';
import { CLI, TRAC_ADMIN, VENV, fmt, initEnv, median, tempRoot, timed } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const root = tempRoot('trac-deploy-bench-cli-');
try {
  const env = initEnv(path.join(root, 'env'));
  const rows = [];
  const measure = (label, fn) => {
    const samples = [];
    for (let i = 0; i < RUNS; i++) samples.push(fn(i));
    rows.push({ label, seconds: median(samples.map((s) => s.seconds)), mib: median(samples.map((s) => s.mib)), cpu: median(samples.map((s) => s.cpu)) });
  };
  measure('trac-admin ENV deploy (fresh target)', (i) => timed(TRAC_ADMIN, [env, 'deploy', path.join(root, `admin-${i}`)]));
  measure('trac-deploy deploy (fresh target: asks Python)', (i) => timed('node', [CLI, 'deploy', env, path.join(root, `ours-${i}`), '--python-home', VENV]));
  measure('trac-deploy deploy (re-run: cached answer, nothing to copy)', () => timed('node', [CLI, 'deploy', env, path.join(root, 'ours-0'), '--python-home', VENV]));
  measure('trac-deploy generate', () => timed('node', [CLI, 'generate', env, '--out', path.join(root, 'gen'), '--python-home', VENV, '--force']));
  measure('node -e 0 (Node start-up)', () => timed('node', ['-e', '0']));
  const base = rows[0].seconds;
  console.log(`median of ${RUNS} runs, one fresh Trac 1.6 environment`);
  for (const r of rows) console.log(`${r.label.padEnd(62)} ${fmt(r.seconds)} s wall  ${fmt(r.cpu)} s cpu  ${fmt(r.mib, 0).padStart(4)} MiB  ${fmt(base / r.seconds, 1)}x trac-admin (wall)`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
