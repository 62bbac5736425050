// Benches 1 and 2: requests/s through a real Apache on 127.0.0.1, measured with wrk (bounded:
// DURATION seconds, CONNECTIONS connections, loopback only), the seed's configuration against
// what trac-deploy deploy writes, on the same machine in the same run.
//   static:  Trac's trac.css; seed = embedded mode, every request through Trac;
//            deploy = Alias to TARGET/htdocs, served by Apache.
//   dynamic: /wiki; seed = embedded mode; deploy = daemon mode with the default processes/threads.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, VENV, fmt, initEnv, tempRoot } from './lib.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const { ThrowawayServer } = await import(path.join(ROOT, 'dist', 'apache', 'throwawayServer.js'));

function wrk(url, seconds = DURATION) {
  const out = spawnSync('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', url], { encoding: 'utf8', timeout: (DURATION + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out.stdout ?? '');
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out.stdout ?? '');
  if (!rps) throw new Error(`wrk gave no figure for ${url}: ${out.stdout}${out.stderr}`);
  return { rps: Number(rps[1]), errors: errors ? Number(errors[1]) : 0 };
}

async function measure(label, conf, urls) {
  const server = await ThrowawayServer.start({ includes: [conf] });
  try {
    const result = {};
    for (const [name, urlPath] of Object.entries(urls)) {
      const warm = await fetch(server.url(urlPath));
      await warm.arrayBuffer();
      if (warm.status !== 200) throw new Error(`${label} ${urlPath}: HTTP ${warm.status}\n${await server.errorLog()}`);
      // Every Apache child and daemon process loads Trac on its first request: warm them all first.
      wrk(server.url(urlPath), 2);
      result[name] = wrk(server.url(urlPath));
    }
    return result;
  } finally {
    await server.stop();
  }
}

// BENCH_DAEMON=PxT tries another daemon size than the default (to tune it).
const daemonFlags = process.env.BENCH_DAEMON ? ['--processes', process.env.BENCH_DAEMON.split('x')[0], '--threads', process.env.BENCH_DAEMON.split('x')[1]] : [];
const root = tempRoot('trac-deploy-bench-rps-');
try {
  const env = initEnv(path.join(root, 'env'));
  execFileSync('node', [CLI, 'generate', env, '--out', path.join(root, 'seed'), '--mode', 'embedded', '--python-home', VENV, '--name', 'seed', '--url-prefix', '/trac'], { stdio: 'ignore' });
  execFileSync('node', [CLI, 'deploy', env, path.join(root, 'deploy'), '--python-home', VENV, '--name', 'deployed', ...daemonFlags], { stdio: 'ignore' });
  execFileSync('chown', ['-R', 'www-data:www-data', root]);
  const urls = { static: '/trac/chrome/common/css/trac.css', dynamic: '/trac/wiki' };
  const seed = await measure('seed', path.join(root, 'seed', 'seed.conf'), urls);
  const ours = await measure('deploy', path.join(root, 'deploy', 'deployed.conf'), urls);
  const conf = fs.readFileSync(path.join(root, 'deploy', 'deployed.conf'), 'utf8');
  const daemon = /WSGIDaemonProcess \S+ (processes=\d+ threads=\d+)/.exec(conf)?.[1] ?? '?';
  console.log(`wrk -t2 -c${CONNECTIONS} -d${DURATION}s on 127.0.0.1; ${(await import('node:os')).cpus().length} CPUs; deploy's daemon: ${daemon}`);
  for (const name of Object.keys(urls)) {
    const s = seed[name];
    const o = ours[name];
    console.log(`${name.padEnd(8)} ${urls[name].padEnd(34)} seed (embedded, via Trac) ${fmt(s.rps, 0).padStart(6)} req/s   deploy ${fmt(o.rps, 0).padStart(6)} req/s   ${fmt(o.rps / s.rps, 1)}x${s.errors + o.errors ? `   (non-2xx: seed ${s.errors}, deploy ${o.errors})` : ''}`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
