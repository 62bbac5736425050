// Bench: the generated production configuration (a whole site, daemon mode, static files by
// Apache) against mod_wsgi-express (PyPI mod-wsgi, built against Debian's apache2-dev, in its own
// virtualenv made by scripts/setup.sh) started with the same processes/threads on the same
// environment and deploy script, and against Trac's own ceiling (bench/trac-ceiling.py:
// dispatch_request called directly by as many processes as the daemon has, no server). Rows:
// /wiki/WikiStart, /timeline, a static file (trac.css).
//
// Made to be trusted on a shared machine:
// - both servers and the ceiling's workers are started once and stay up; the measurements are
//   interleaved (BENCH_ROUNDS rounds, the order rotated every round) and the medians compared;
// - nothing is timed before every server process and Trac worker has served the row (warm-up);
// - the servers run detached in sessions of their own, and so does the ceiling (one session for
//   all its workers): with the kernel's autogroup scheduling each gets one CPU share, so the
//   ceiling is not starved beside a server (the old bench ran it in wrk's session: it came out
//   below both servers);
// - every response counts only when it is right: wrk's own error and non-2xx/3xx counts must be
//   0, the bytes read per response must match the page checked beforehand (status 200, the page's
//   text or, for the static file, the file's bytes), and the ceiling checks every body;
// - the CPU that each server's processes (Apache and its mod_wsgi daemons) spent per request is
//   measured from /proc too: unlike requests/s, it hardly moves with the machine's load.
// - a second ceiling, "ceiling-libpython", runs the same script in Debian's shared libpython
//   (a launcher linked with python3-config --embed, as mod_wsgi is): Debian's /usr/bin/python3 is
//   a static, PGO+LTO build that runs pure Python about 1.4x faster than libpython3.x.so, so the
//   plain ceiling holds a factor no mod_wsgi on Debian can reach; both are reported.
// wrk on 127.0.0.1 only, bounded by BENCH_SECONDS, BENCH_ROUNDS and BENCH_CONNECTIONS.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { CLI, ROOT, VENV, fmt, initEnv, median, tempRoot } from './lib.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const EXPRESS = process.env.MOD_WSGI_EXPRESS ?? '/opt/trac-deploy/mod-wsgi-venv/bin/mod_wsgi-express';
const CEILING = path.join(ROOT, 'bench', 'trac-ceiling.py');
const WRK_SCRIPT = path.join(ROOT, 'bench', 'wrk-summary.lua');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const { ThrowawayServer } = await import(path.join(ROOT, 'dist', 'apache', 'throwawayServer.js'));
const ROWS = {
  wiki: { path: '/wiki/WikiStart', marker: 'Welcome to Trac' },
  timeline: { path: '/timeline', marker: 'id="prefs"' },
  static: { path: '/chrome/common/css/trac.css' },
};
const MOUNT = '/trac';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) spent so far by the live processes of one process group. */
function groupCpu(pgid) {
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLK_TCK;
}

function wrk(url, secs) {
  const out = spawnSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${secs}s`, '--timeout', '20s', '-s', WRK_SCRIPT, url], { encoding: 'utf8', timeout: (secs + 60) * 1000 });
  const line = /WRK_SUMMARY (.*)/.exec(out.stdout ?? '');
  if (!line) throw new Error(`wrk gave no figure for ${url}: ${out.stdout}${out.stderr}`);
  return JSON.parse(line[1]);
}

async function waitFor(url, ms = 60000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer 200`);
}

/** One response checked by hand: status 200 and the right body; its body length is returned. */
async function check(contender, url, row, staticBytes) {
  const r = await fetch(url, { signal: AbortSignal.timeout(30000) });
  const body = Buffer.from(await r.arrayBuffer());
  const right = row.marker ? body.includes(row.marker) : body.equals(staticBytes);
  if (r.status !== 200 || !right) throw new Error(`${contender}: ${url} answered ${r.status} without the expected ${row.marker ? `text ${row.marker}` : 'file bytes'}`);
  return body.length;
}

class Server {
  constructor(name, base, pgid, stop) {
    Object.assign(this, { name, base, pgid, stop, bodies: {} });
  }

  async prepare(staticBytes) {
    for (const [key, row] of Object.entries(ROWS)) {
      await waitFor(this.base + MOUNT + row.path);
      this.bodies[key] = await check(this.name, this.base + MOUNT + row.path, row, staticBytes);
      wrk(this.base + MOUNT + row.path, 3); // every Apache child and daemon thread has served it
    }
  }

  measure(key) {
    const url = this.base + MOUNT + ROWS[key].path;
    const cpu0 = groupCpu(this.pgid);
    const w = wrk(url, DURATION);
    const cpu = groupCpu(this.pgid) - cpu0;
    const perResponse = w.requests ? w.bytes / w.requests : 0;
    const problems = ['connect', 'read', 'write', 'timeout', 'status'].filter((k) => w[k] > 0).map((k) => `${w[k]} ${k === 'status' ? 'non-2xx/3xx' : `${k} errors`}`);
    // wrk's byte count includes the responses still in flight at the end (one per connection);
    // headers and chunk framing add a few hundred bytes; Trac's pages vary by a few bytes.
    const most = ((w.requests + CONNECTIONS) * (this.bodies[key] * 1.05 + 2048)) / Math.max(w.requests, 1);
    if (w.requests === 0 || perResponse < this.bodies[key] || perResponse > most) problems.push(`${fmt(perResponse, 0)} bytes per response for a ${this.bodies[key]}-byte body`);
    return { rps: w.requests / w.seconds, p99: w.p99 / 1000, cpuPerRequest: (cpu * 1e6) / Math.max(w.requests, 1), problems };
  }
}

// Server-wide settings the site meets on Debian 12 (apache2.conf, mods-available/mpm_event.conf):
// the site file holds none of them. (The throwaway server's own are sized for tests.)
const DEBIAN_SERVER = [
  'KeepAlive On',
  'MaxKeepAliveRequests 100',
  'KeepAliveTimeout 5',
  '<IfModule mpm_event_module>',
  '    StartServers 2',
  '    ServerLimit 16',
  '    MinSpareThreads 25',
  '    MaxSpareThreads 75',
  '    ThreadLimit 64',
  '    ThreadsPerChild 25',
  '    MaxRequestWorkers 150',
  '    MaxConnectionsPerChild 0',
  '</IfModule>',
].join('\n');

/** The deploy output's production site in a throwaway Apache listening on its vhost port. */
async function startOurs(conf, port) {
  const server = await ThrowawayServer.start({ includes: [conf], extra: `Listen 127.0.0.1:${port}\n${DEBIAN_SERVER}` });
  return new Server('ours', `http://127.0.0.1:${port}`, server.pid, () => server.stop());
}

/** mod_wsgi-express start-server with the same script, processes, threads and static directory. */
async function startExpress(root, target, processes, threads) {
  const port = await freePort();
  const args = ['start-server', path.join(target, 'cgi-bin', 'trac.wsgi'), '--host', '127.0.0.1', '--port', String(port), '--mount-point', MOUNT, '--processes', String(processes), '--threads', String(threads), '--url-alias', `${MOUNT}/chrome/common`, path.join(target, 'htdocs', 'common'), '--server-root', path.join(root, 'express'), '--user', 'www-data', '--group', 'www-data', '--locale', 'C.UTF-8', '--access-log', '--log-directory', path.join(root, 'express-logs')];
  const child = spawn(EXPRESS, args, { detached: true, stdio: 'ignore', env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
  const stop = async () => {
    for (const signal of ['SIGTERM', 'SIGKILL']) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 3000));
    }
  };
  return new Server('express', `http://127.0.0.1:${port}`, child.pid, stop);
}

/**
 * A python that runs in Debian's shared libpython, as mod_wsgi does: Py_BytesMain linked with
 * python3-config --embed. null (with the reason printed) when it cannot be built here.
 */
function sharedPython(dir) {
  const config = '/usr/bin/python3-config';
  fs.mkdirSync(dir, { recursive: true });
  const source = path.join(dir, 'python-shared.c');
  const binary = path.join(dir, 'python-shared');
  fs.writeFileSync(source, '#include <Python.h>\nint main(int argc, char **argv) { return Py_BytesMain(argc, argv); }\n');
  const flags = spawnSync(config, ['--embed', '--cflags', '--ldflags'], { encoding: 'utf8' });
  const built = flags.status === 0 ? spawnSync('sh', ['-c', `cc -O2 -o "${binary}" "${source}" ${flags.stdout.replace(/\s+/g, " ").trim()}`], { encoding: 'utf8' }) : null;
  if (!built || built.status !== 0) {
    console.log(`ceiling-libpython skipped: no launcher linked with libpython (${(built ?? flags).stderr?.trim() || 'python3-config missing'})`);
    return null;
  }
  fs.chmodSync(dir, 0o755);
  return binary;
}

/** The ceiling's workers, detached as www-data; measure(row) runs all of them for DURATION. */
function startCeiling(env, processes, shared = null) {
  // In the shared libpython: the virtualenv's site-packages and nothing of the system's (-S),
  // as mod_wsgi's python-home gives it.
  const sitePackages = execFileSync(path.join(VENV, 'bin', 'python'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim();
  const command = shared
    ? [shared, '-S', '-c', `import site, sys, runpy; site.addsitedir(${JSON.stringify(sitePackages)}); sys.argv = [${JSON.stringify(CEILING)}, ${JSON.stringify(env)}, ${JSON.stringify(String(processes))}]; runpy.run_path(sys.argv[0], run_name='__main__')`]
    : [path.join(VENV, 'bin', 'python'), CEILING, env, String(processes)];
  const child = spawn('setpriv', ['--reuid=www-data', '--regid=www-data', '--clear-groups', ...command], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code) => waiting.splice(0).forEach((w) => w.reject(new Error(`trac-ceiling.py exited ${code}`))));
  const ask = (key, seconds) =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      child.stdin.write(`${JSON.stringify({ path: ROWS[key].path, seconds, marker: ROWS[key].marker })}\n`);
    });
  return {
    name: shared ? 'ceiling-libpython' : 'ceiling',
    async prepare() {
      for (const key of Object.keys(ROWS)) if (ROWS[key].marker) await ask(key, 2);
    },
    async measure(key) {
      const r = await ask(key, DURATION);
      const problems = r.bad ? [`${r.bad} of ${r.requests} responses not 200 with ${ROWS[key].marker} (last: ${r.status}, ${r.length} bytes)`] : [];
      return { rps: r.requests / r.seconds, p99: r.p99_ms, cpuPerRequest: (r.cpu_ms * 1000) / Math.max(r.requests, 1), problems };
    },
    async stop() {
      child.stdin.end();
      await new Promise((r) => setTimeout(r, 2000));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
}

const root = tempRoot('trac-deploy-bench-prod-');
const running = [];
let failed = false;
try {
  const env = initEnv(path.join(root, 'env'));
  const port = await freePort();
  const target = path.join(root, 'deploy');
  const sizing = process.env.BENCH_DAEMON ? ['--processes', process.env.BENCH_DAEMON.split('x')[0], '--threads', process.env.BENCH_DAEMON.split('x')[1]] : [];
  execFileSync('node', [CLI, 'deploy', env, target, '--python-home', VENV, '--name', 'prod', '--server-name', 'bench.test', '--http-port', String(port), '--log-dir', path.join(root, 'logs'), ...sizing], { stdio: 'ignore' });
  for (const dir of ['logs', 'express-logs']) fs.mkdirSync(path.join(root, dir));
  execFileSync('chown', ['-R', 'www-data:www-data', root]);
  const conf = fs.readFileSync(path.join(target, 'prod.conf'), 'utf8');
  const [, processes, threads] = /WSGIDaemonProcess \S+ processes=(\d+) threads=(\d+)/.exec(conf) ?? [];
  const staticBytes = fs.readFileSync(path.join(target, 'htdocs', 'common', 'css', 'trac.css'));
  const loadBefore = os.loadavg();

  running.push(await startOurs(path.join(target, 'prod.conf'), port));
  if (fs.existsSync(EXPRESS)) running.push(await startExpress(root, target, processes, threads));
  else console.log(`mod_wsgi-express not found at ${EXPRESS} (scripts/setup.sh builds it): its column is skipped`);
  running.push(startCeiling(env, Number(processes)));
  const shared = sharedPython(path.join(root, 'launcher'));
  if (shared) running.push(startCeiling(env, Number(processes), shared));
  for (const contender of running) await contender.prepare(staticBytes);

  const results = {}; // results[row][contender] = [measurement per round]
  for (let round = 0; round < ROUNDS; round++) {
    for (const key of Object.keys(ROWS)) {
      const order = running.map((_, i) => running[(i + round) % running.length]);
      for (const contender of order) {
        if (contender.name.startsWith('ceiling') && !ROWS[key].marker) continue;
        const m = await contender.measure(key);
        if (m.problems.length) {
          failed = true;
          console.log(`round ${round + 1} ${key} ${contender.name}: not counted: ${m.problems.join(', ')}`);
          continue;
        }
        ((results[key] ??= {})[contender.name] ??= []).push(m);
      }
    }
  }
  const loadAfter = os.loadavg();

  console.log(`wrk -t2 -c${CONNECTIONS} ${ROUNDS} interleaved rounds of ${DURATION}s, medians; ${os.cpus().length} CPUs; daemon processes=${processes} threads=${threads}; load average ${loadBefore.map((l) => fmt(l, 1)).join(' ')} at the start, ${loadAfter.map((l) => fmt(l, 1)).join(' ')} at the end`);
  console.log('cpu = CPU time per request of the server (Apache and its mod_wsgi daemons) or of the ceiling\'s workers; unlike');
  console.log('req/s it moves little with the load. On a loaded machine a busy loop (the ceiling) gets less CPU than');
  console.log('servers whose threads sleep and wake, so the cpu ratio is the ceiling comparison to trust then.');
  let missed = 0;
  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  for (const key of Object.keys(ROWS)) {
    const of = (name, field) => (results[key]?.[name]?.length ? median(results[key][name].map((m) => m[field])) : undefined);
    const get = (name) => ({ rps: of(name, 'rps'), p99: of(name, 'p99'), cpu: of(name, 'cpuPerRequest'), n: results[key]?.[name]?.length ?? 0 });
    const o = get('ours');
    const e = get('express');
    const c = get('ceiling');
    const cs = get('ceiling-libpython');
    console.log(`${key} ${MOUNT}${ROWS[key].path}`);
    for (const [name, x] of [['ours', o], ['express', e], ['ceiling', c], ['ceiling-libpython', cs]]) {
      if (name.startsWith('ceiling') && !ROWS[key].marker) continue;
      console.log(`  ${name.padEnd(17)} ${x.n ? `${fmt(x.rps, 0).padStart(6)} req/s  p99 ${fmt(x.p99, 0).padStart(5)} ms  cpu ${fmt(x.cpu / 1000, 3).padStart(7)} ms/req  (${x.n} rounds)` : 'no valid round'}`);
    }
    if (!o.n) {
      missed++;
      continue;
    }
    if (e.n) {
      const ahead = o.rps > e.rps;
      if (!ahead) missed++;
      console.log(`  ours/express  req/s ${fmt(o.rps / e.rps)}, p99 ${fmt(o.p99 / e.p99)}, cpu per request ${fmt(o.cpu / e.cpu)}; goal ahead of express: ${verdict(ahead)}`);
    }
    if (c.n) {
      const byRps = o.rps / c.rps;
      const byCpu = c.cpu / o.cpu;
      if (byRps < 0.9 || byCpu < 0.9) missed++;
      console.log(`  ours/ceiling  req/s ${fmt(byRps)}${byRps > 1.05 ? ' (a server above the ceiling: req/s not comparable in this run)' : ''}, cpu (ceiling's cpu/ours) ${fmt(byCpu)}; goal 0.9: req/s ${verdict(byRps >= 0.9)}, cpu ${verdict(byCpu >= 0.9)}`);
    }
    if (cs.n) {
      console.log(`  ours/ceiling-libpython  req/s ${fmt(o.rps / cs.rps)}, cpu (its cpu/ours) ${fmt(cs.cpu / o.cpu)}; the interpreter build alone (ceiling cpu/ceiling-libpython cpu): ${c.n ? fmt(c.cpu / cs.cpu) : '-'}`);
    }
  }
  if (missed || failed) process.exitCode = 1;
} finally {
  for (const contender of running) await contender.stop();
  fs.rmSync(root, { recursive: true, force: true });
}
