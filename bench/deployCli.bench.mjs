// Bench 3: CLI speed. trac-admin ENV deploy vs trac-deploy deploy on the same environment
// (median of RUNS runs each, interleaved, so every command sees the same machine load), and
// trac-deploy generate and inspect against Node's own start-up.
// Goals (issue 16): a fresh deploy at most as long as trac-admin's; a repeated deploy (any
// TARGET: the Python answer comes from the cache) at most half of it; generate and inspect of
// one environment under 150 ms (with Trac's verdict kept from an earlier run: asking Trac costs
// an interpreter that imports it).
// BENCH_OLD_CLI=/path/to/other/bin/trac-deploy.js adds the same trac-deploy rows for that build
// (e.g. a worktree of main), interleaved in the same run: old and new figures side by side.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, TRAC_ADMIN, VENV, fmt, initEnv, median, tempRoot, timed } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const OLD_CLI = process.env.BENCH_OLD_CLI ?? null;
// BENCH_ONLY=deploy (a regular expression) keeps only the trac-deploy rows whose label matches;
// trac-admin's row and Node's start-up are always timed.
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
const root = tempRoot('trac-deploy-bench-cli-');
// Targets, --out and caches apart from the environment's directory: a new entry in a directory
// above the environment changes its ctime, which (like an ACL change) makes a kept verdict be
// asked again — as on a server, where deploy targets are not made beside the environment.
const out = tempRoot('trac-deploy-bench-cli-out-');
try {
  const env = initEnv(path.join(root, 'env'));
  const cache = path.join(out, 'cache');
  const ours = (cli, tag) => [
    // An empty cache of its own for every run: Python is asked.
    { label: `trac-deploy${tag} deploy (fresh target, empty cache: asks Python)`, run: (i) => timed('node', [cli, 'deploy', env, path.join(out, `ours${tag}-${i}`), '--python-home', VENV], { TRAC_DEPLOY_CACHE_DIR: path.join(out, `cache${tag}-${i}`) }) },
    { label: `trac-deploy${tag} deploy (new target, cached answer)`, run: (i) => timed('node', [cli, 'deploy', env, path.join(out, `new${tag}-${i}`), '--python-home', VENV], { TRAC_DEPLOY_CACHE_DIR: cache + tag }) },
    { label: `trac-deploy${tag} deploy (re-run: cached, nothing to copy)`, run: () => timed('node', [cli, 'deploy', env, path.join(out, `again${tag}`), '--python-home', VENV], { TRAC_DEPLOY_CACHE_DIR: cache + tag }) },
    // Trac's verdict (the preflight) asked in every run: an empty cache of its own each time.
    { label: `trac-deploy${tag} generate (empty cache: preflight asks Trac)`, run: (i) => timed('node', [cli, 'generate', env, '--out', path.join(out, `gen${tag}`), '--python-home', VENV, '--force'], { TRAC_DEPLOY_CACHE_DIR: path.join(out, `gcache${tag}-${i}`) }) },
    // Its own --out: the row above rewrites gen/ (and the egg cache the verdict read) every run.
    { label: `trac-deploy${tag} generate (verdict kept from an earlier run)`, run: () => timed('node', [cli, 'generate', env, '--out', path.join(out, `genkept${tag}`), '--python-home', VENV, '--force'], { TRAC_DEPLOY_CACHE_DIR: cache + tag }) },
    { label: `trac-deploy${tag} inspect --python-home (empty cache: asks Trac)`, run: (i) => timed('node', [cli, 'inspect', env, '--python-home', VENV], { TRAC_DEPLOY_CACHE_DIR: path.join(out, `icache${tag}-${i}`) }) },
    { label: `trac-deploy${tag} inspect --python-home (verdict kept)`, run: () => timed('node', [cli, 'inspect', env, '--python-home', VENV], { TRAC_DEPLOY_CACHE_DIR: cache + tag }) },
    { label: `trac-deploy${tag} inspect (system python3: preflight skipped when it has no Trac)`, run: () => timed('node', [cli, 'inspect', env]) },
    { label: `trac-deploy${tag} inspect --no-preflight`, run: () => timed('node', [cli, 'inspect', env, '--no-preflight']) },
  ].filter((row) => !ONLY || ONLY.test(row.label));
  const builds = [[CLI, ''], ...(OLD_CLI ? [[OLD_CLI, ' (old)']] : [])];
  const rows = [
    { label: 'trac-admin ENV deploy (fresh target)', run: (i) => timed(TRAC_ADMIN, [env, 'deploy', path.join(out, `admin-${i}`)]) },
    // Row by row, each build after the other: both see the same moment's load (the pair's order
    // alternates run by run, below).
    ...ours(CLI, '').flatMap((row, n) => [row, ...(OLD_CLI ? [{ ...ours(OLD_CLI, ' (old)')[n], pairedWithPrevious: true }] : [])]),
    // NODE_EXTRA_CA_CERTS (set by some sandboxes and proxies, rarely on a server) makes Node
    // read and parse that bundle at every start, before any of our code: its cost, shown apart.
    ...(process.env.NODE_EXTRA_CA_CERTS ? [{ label: 'node -e 0 without NODE_EXTRA_CA_CERTS (information)', run: () => timed('env', ['-u', 'NODE_EXTRA_CA_CERTS', 'node', '-e', '0']) }] : []),
    { label: 'node -e 0 (Node start-up)', run: () => timed('node', ['-e', '0']) },
  ].map((r) => ({ ...r, samples: [] }));
  // The environment as an administrator leaves it: the web server user's (the preflight runs as
  // it when we are root), and older than the 2 s a kept verdict wants its files to have settled.
  if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'www-data:www-data', env]);
  spawnSync('sleep', ['2.1']);
  // Warm the cache of the cached rows (and the page cache for all).
  for (const [cli, tag] of builds) {
    timed('node', [cli, 'deploy', env, path.join(out, `again${tag}`), '--python-home', VENV], { TRAC_DEPLOY_CACHE_DIR: cache + tag });
    timed('node', [cli, 'generate', env, '--out', path.join(out, `genkept${tag}`), '--python-home', VENV, '--force'], { TRAC_DEPLOY_CACHE_DIR: cache + tag });
  }
  // With BENCH_OLD_CLI, the two builds of a row swap places every other run: a run right after
  // one that asked Trac (a Python process a second long) is measurably slower (~0.1 s on a loaded
  // machine), which fell always on the build listed first.
  for (let i = 0; i < RUNS; i++) {
    const order = rows.map((_, k) => k);
    if (i % 2 === 1) for (let k = 1; k < order.length; k++) if (rows[k].pairedWithPrevious) [order[k - 1], order[k]] = [order[k], order[k - 1]];
    for (const k of order) rows[k].samples.push(rows[k].run(i));
  }
  const stats = rows.map((r) => ({ label: r.label, seconds: median(r.samples.map((s) => s.seconds)), mib: median(r.samples.map((s) => s.mib)), cpu: median(r.samples.map((s) => s.cpu)) }));
  const admin = stats[0].seconds;
  const node = stats[stats.length - 1].seconds;
  console.log(`median of ${RUNS} interleaved runs, one fresh Trac 1.6 environment; load average ${os.loadavg().map((l) => fmt(l)).join(' ')} at the end`);
  for (const r of stats) {
    console.log(`${r.label.padEnd(76)} ${fmt(r.seconds)} s wall  ${fmt(r.cpu)} s cpu  ${fmt(r.mib, 0).padStart(4)} MiB  ${fmt(r.seconds / admin)}x trac-admin  +${fmt((r.seconds - node) * 1000, 0)} ms over node -e 0`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
}
