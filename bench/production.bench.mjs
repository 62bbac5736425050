// Bench: the generated production configuration (a whole site, daemon mode, static files by
// Apache) against mod_wsgi-express (PyPI mod-wsgi, built against Debian's apache2-dev, in its own
// virtualenv made by scripts/setup.sh) started with the same processes/threads on the same
// environment and deploy script, and against Trac's own ceiling (../shared/trac-ceiling.py:
// dispatch_request called directly by as many processes as the daemon has, no server). One run,
// same machine; figures as ratios. wrk on 127.0.0.1 only, bounded by BENCH_SECONDS and
// BENCH_CONNECTIONS. Rows: /wiki/WikiStart, /timeline, a static file (trac.css).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT, VENV, fmt, initEnv, tempRoot } from './lib.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const EXPRESS = process.env.MOD_WSGI_EXPRESS ?? '/opt/trac-deploy/mod-wsgi-venv/bin/mod_wsgi-express';
const CEILING = process.env.TRAC_CEILING ?? path.resolve(ROOT, '..', 'shared', 'trac-ceiling.py');
const { ThrowawayServer } = await import(path.join(ROOT, 'dist', 'apache', 'throwawayServer.js'));
const ROWS = { wiki: '/trac/wiki/WikiStart', timeline: '/trac/timeline', static: '/trac/chrome/common/css/trac.css' };

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function seconds(value, unit) {
  return Number(value) * { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[unit];
}

function wrk(url, secs = DURATION) {
  const out = spawnSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${secs}s`, '--timeout', '20s', '--latency', url], { encoding: 'utf8', timeout: (secs + 40) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out.stdout ?? '');
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out.stdout ?? '');
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out.stdout ?? '');
  const errors = /Socket errors: .*/.exec(out.stdout ?? '');
  if (!rps || !p99) throw new Error(`wrk gave no figure for ${url}: ${out.stdout}${out.stderr}`);
  return { rps: Number(rps[1]), p99: seconds(p99[1], p99[2]), non2xx: non2xx ? Number(non2xx[1]) : 0, errors: errors?.[0] ?? '' };
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

async function measureAt(base) {
  const result = {};
  for (const [row, urlPath] of Object.entries(ROWS)) {
    await waitFor(base + urlPath);
    wrk(base + urlPath, 3); // every daemon process and Apache child warm
    result[row] = wrk(base + urlPath);
  }
  return result;
}

/** The deploy output's production site in a throwaway Apache listening on its vhost port too. */
async function measureOurs(conf, port) {
  const server = await ThrowawayServer.start({ includes: [conf], extra: `Listen 127.0.0.1:${port}` });
  try {
    return await measureAt(`http://127.0.0.1:${port}`);
  } finally {
    await server.stop();
  }
}

/** mod_wsgi-express start-server with the same script, processes, threads and static directory. */
async function measureExpress(root, target, processes, threads) {
  const port = await freePort();
  const serverRoot = path.join(root, 'express');
  const child = spawn(EXPRESS, ['start-server', path.join(target, 'cgi-bin', 'trac.wsgi'), '--host', '127.0.0.1', '--port', String(port), '--mount-point', '/trac', '--processes', String(processes), '--threads', String(threads), '--url-alias', '/trac/chrome/common', path.join(target, 'htdocs', 'common'), '--server-root', serverRoot, '--user', 'www-data', '--group', 'www-data', '--locale', 'C.UTF-8', '--log-to-terminal'], { detached: true, stdio: 'ignore', env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
  try {
    return await measureAt(`http://127.0.0.1:${port}`);
  } finally {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // gone
    }
    await new Promise((r) => setTimeout(r, 3000));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** processes copies of trac-ceiling.py at once, as www-data; their requests/s summed. */
async function ceiling(env, processes, tracPath) {
  const runs = Array.from({ length: processes }, () =>
    new Promise((resolve, reject) => {
      const child = spawn('setpriv', ['--reuid=www-data', '--regid=www-data', '--clear-groups', path.join(VENV, 'bin', 'python'), CEILING, env, String(DURATION), tracPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => (code === 0 ? resolve(Number.parseFloat(out.trim().split(/\s+/)[0])) : reject(new Error(`trac-ceiling.py exited ${code}: ${out}`))));
    }),
  );
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

const root = tempRoot('trac-deploy-bench-prod-');
try {
  const env = initEnv(path.join(root, 'env'));
  const port = await freePort();
  const target = path.join(root, 'deploy');
  const sizing = process.env.BENCH_DAEMON ? ['--processes', process.env.BENCH_DAEMON.split('x')[0], '--threads', process.env.BENCH_DAEMON.split('x')[1]] : [];
  execFileSync('node', [CLI, 'deploy', env, target, '--python-home', VENV, '--name', 'prod', '--server-name', 'bench.test', '--http-port', String(port), '--log-dir', path.join(root, 'logs'), ...sizing], { stdio: 'ignore' });
  fs.mkdirSync(path.join(root, 'logs'));
  execFileSync('chown', ['-R', 'www-data:www-data', root]);
  const conf = fs.readFileSync(path.join(target, 'prod.conf'), 'utf8');
  const [, processes, threads] = /WSGIDaemonProcess \S+ processes=(\d+) threads=(\d+)/.exec(conf) ?? [];
  const ours = await measureOurs(path.join(target, 'prod.conf'), port);
  const express = fs.existsSync(EXPRESS) ? await measureExpress(root, target, processes, threads) : null;
  const ceilings = fs.existsSync(CEILING)
    ? { wiki: await ceiling(env, Number(processes), '/wiki/WikiStart'), timeline: await ceiling(env, Number(processes), '/timeline') }
    : {};
  console.log(`wrk -t2 -c${CONNECTIONS} -d${DURATION}s --latency on 127.0.0.1; ${os.cpus().length} CPUs; daemon processes=${processes} threads=${threads}`);
  if (!express) console.log(`mod_wsgi-express not found at ${EXPRESS} (scripts/setup.sh builds it): its column is skipped`);
  for (const [row, urlPath] of Object.entries(ROWS)) {
    const o = ours[row];
    const e = express?.[row];
    const c = ceilings[row];
    const parts = [
      `${row.padEnd(9)}${urlPath.padEnd(36)}`,
      `ours ${fmt(o.rps, 0).padStart(6)} req/s p99 ${fmt(o.p99 * 1000, 0).padStart(5)} ms`,
      e ? `express ${fmt(e.rps, 0).padStart(6)} req/s p99 ${fmt(e.p99 * 1000, 0).padStart(5)} ms  ours/express ${fmt(o.rps / e.rps)}` : 'express skipped',
      c ? `ceiling ${fmt(c, 0).padStart(5)} req/s  ours/ceiling ${fmt(o.rps / c)}` : '',
      o.non2xx || e?.non2xx ? `(non-2xx: ours ${o.non2xx}, express ${e?.non2xx ?? '-'})` : '',
    ];
    console.log(parts.filter(Boolean).join('   '));
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
