// Bench: the first request after a graceful reload, against the warm median, for the generated
// whole site (daemon mode, 2 processes). Two scripts side by side in the same run, interleaved:
// "opens env" is what generate writes (the daemon's script, preloaded as the process starts,
// also opens the environment into Trac's cache); "import only" is the same script without that
// block (the previous output: the preload imports trac.web.main and nothing more). Per round and
// script: warm median of sequential requests; then SIGUSR1 (Apache's graceful reload), and
//   "during start-up": one request sent at once, answered by the new generation once it runs;
//   "settled": once both new daemons logged that they loaded the script, plus 3 s, the first
//   request and the slowest of the first four (two processes: each has taken one by then).
// Requests on 127.0.0.1 only, each on a new connection, with the site's Host.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CLI, ROOT, VENV, fmt, initEnv, median, tempRoot } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
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

const loads = async (server) => ((await server.errorLog()).match(/Loading Python script file/g) ?? []).length;

async function waitForLoads(server, count) {
  const deadline = Date.now() + 60000;
  while ((await loads(server)) < count) {
    if (Date.now() > deadline) throw new Error('the daemons did not load the script within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function warmMedian(port) {
  for (let i = 0; i < 4; i++) await ok(port);
  const times = [];
  for (let i = 0; i < WARM; i++) times.push(await ok(port));
  return median(times);
}

/** A graceful reload; the first request sent at once, then (settled) the first four. */
async function afterReload(server, port, processes) {
  const before = await loads(server);
  process.kill(server.pid, 'SIGUSR1');
  // The parent re-reads its configuration and starts new daemons; this request waits for them.
  const [duringStatus, duringStart] = await timedGet(port);
  await waitForLoads(server, before + processes);
  await new Promise((r) => setTimeout(r, 3000));
  // Another graceful reload, this time measured only once the new daemons have settled.
  const settledBefore = await loads(server);
  process.kill(server.pid, 'SIGUSR1');
  await waitForLoads(server, settledBefore + processes);
  await new Promise((r) => setTimeout(r, 3000));
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
    const server = await ThrowawayServer.start({ includes: [v.conf], extra: `Listen 127.0.0.1:${v.port}`, logLevel: 'info' });
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
