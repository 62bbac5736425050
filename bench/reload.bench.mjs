// Bench: the first request after a graceful reload, against the warm median, for the generated
// whole site (daemon mode, 2 processes). Two scripts side by side in the same run, interleaved:
// "opens env" is what generate writes (the daemon's script, preloaded as the process starts,
// also opens the environment into Trac's cache); "import only" is the same script without that
// block (the previous output: the preload imports trac.web.main and nothing more). Per round and
// script: warm median of sequential requests; then SIGUSR1 (Apache's graceful reload), and
//   "during start-up": one request sent as soon as the new daemons were forked, answered once
//   they loaded Trac;
//   "settled": after another reload, once both new daemons started their threads (which they do
//   after the preload) and 1 s more, the first request and the slowest of the first four (two
//   processes: each has taken one by then).
// Requests on 127.0.0.1 only, each on a new connection, with the site's Host.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CLI, ROOT, VENV, fmt, initEnv, median, tempRoot } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARM = 15;
const HOST = 'bench.test';
const URL_PATH = '/trac/wiki/WikiStart';
const { ThrowawayServer } = await import(path.join(ROOT, 'dist', 'apache', 'throwawayServer.js'));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One GET with the site's Host on a new connection: [status, ms]. */
function timedGet(port) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path: URL_PATH, headers: { host: HOST }, agent: false, timeout: 60000 }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode, performance.now() - start]));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end();
  });
}

async function ok(port) {
  const [status, ms] = await timedGet(port);
  if (status !== 200) throw new Error(`${URL_PATH} answered ${status}`);
  return ms;
}

/** How often the error log says it (LogLevel info wsgi:debug). */
const count = async (server, re) => ((await server.errorLog()).match(re) ?? []).length;
/** Forked by the parent (the daemon socket is bound by then). */
const STARTING = /Starting process '/g;
/** A daemon starts its request threads only after it loaded (preloaded) the script. */
const READY = /Started thread 0 in daemon process/g;

async function waitForCount(server, re, n) {
  const deadline = Date.now() + 90000;
  while ((await count(server, re)) < n) {
    if (Date.now() > deadline) throw new Error(`${re} did not reach ${n} within 90 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function warmMedian(port) {
  for (let i = 0; i < 4; i++) await ok(port);
  const times = [];
  for (let i = 0; i < WARM; i++) times.push(await ok(port));
  return median(times);
}

/**
 * A graceful reload, and a request sent as soon as the new daemons were forked (it waits for
 * them to load Trac); then another reload, and the first four requests once both new daemons
 * are ready (their threads started, which they do after the preload) and 1 s has passed.
 */
async function afterReload(server, port, processes) {
  const starting = await count(server, STARTING);
  let ready = await count(server, READY);
  process.kill(server.pid, 'SIGUSR1');
  await waitForCount(server, STARTING, starting + processes);
  const [duringStatus, duringStart] = await timedGet(port);
  await waitForCount(server, READY, ready + processes);
  await new Promise((r) => setTimeout(r, 1000));
  ready = await count(server, READY);
  process.kill(server.pid, 'SIGUSR1');
  await waitForCount(server, READY, ready + processes);
  await new Promise((r) => setTimeout(r, 1000));
  const first = [];
  for (let i = 0; i < 4; i++) first.push(await ok(port));
  return { duringStart, duringStatus, first: first[0], slowestOfFour: Math.max(...first) };
}

const root = tempRoot('trac-deploy-bench-reload-');
const servers = [];
try {
  const env = initEnv(path.join(root, 'env'));
  fs.mkdirSync(path.join(root, 'logs'));
  const variants = {};
  for (const name of ['opens-env', 'import-only']) {
    const port = await freePort();
    const out = path.join(root, name);
    execFileSync('node', [CLI, 'generate', env, '--out', out, '--name', name, '--python-home', VENV, '--server-name', HOST, '--http-port', String(port), '--log-dir', path.join(root, 'logs'), '--processes', '2', '--threads', '5'], { stdio: 'ignore' });
    const script = path.join(out, `${name}.wsgi`);
    const text = fs.readFileSync(script, 'utf8');
    const block = /\n# A daemon process loads this script as it starts[\s\S]*?except Exception:\n    pass\n/;
    if (!block.test(text)) throw new Error(`${script} has no preload block: is dist/ built from this tree?`);
    if (name === 'import-only') fs.writeFileSync(script, text.replace(block, '\n'));
    variants[name] = { port, conf: path.join(out, `${name}.conf`), rows: [] };
  }
  execFileSync('chown', ['-R', 'www-data:www-data', root]);
  for (const [name, v] of Object.entries(variants)) {
    const server = await ThrowawayServer.start({ includes: [v.conf], extra: `Listen 127.0.0.1:${v.port}`, logLevel: 'info wsgi:debug' });
    servers.push(server);
    v.server = server;
    void name;
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of Object.values(variants)) {
      const warm = await warmMedian(v.port);
      const after = await afterReload(v.server, v.port, 2);
      v.rows.push({ warm, ...after, load: os.loadavg()[0] });
    }
  }
  console.log(`graceful reload, ${URL_PATH} (Host ${HOST}), daemon processes=2 threads=5, ${ROUNDS} rounds interleaved, ${os.cpus().length} CPUs`);
  for (const [name, v] of Object.entries(variants)) {
    const m = (key) => median(v.rows.map((r) => r[key]));
    console.log(
      `  ${name.padEnd(12)} warm median ${fmt(m('warm'), 0).padStart(5)} ms | settled: first ${fmt(m('first'), 0).padStart(5)} ms (${fmt(m('first') / m('warm'))} x warm), slowest of first 4 ${fmt(m('slowestOfFour'), 0).padStart(5)} ms | during start-up ${fmt(m('duringStart'), 0).padStart(5)} ms (statuses ${v.rows.map((r) => r.duringStatus).join(' ')}) | load ${v.rows.map((r) => fmt(r.load, 1)).join(' ')}`,
    );
  }
  const a = variants['opens-env'];
  const b = variants['import-only'];
  const first = (v) => median(v.rows.map((r) => r.first));
  console.log(`  first request after a settled reload: opens-env / import-only = ${fmt(first(a) / first(b))}`);
} finally {
  for (const s of servers) await s.stop();
  fs.rmSync(root, { recursive: true, force: true });
}
