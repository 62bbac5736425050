// Bench 4: `inspect --json` on a parent directory of 1,000, 10,000 and 100,000 environments:
// wall time, CPU and peak memory (of the largest process: node, or one Python process), as the
// user running the bench (root: with the Apache user's access check, the preflight as that
// user) and as nobody (setpriv).
//
// Part 1, --no-preflight: synthetic environments (VERSION + conf/trac.ini, SQLite path
// configured, no database file). Peer in the same run: reading the same files with `cat`
// through find + xargs, the least any inspection must do.
// Part 2, the preflight (Trac opens each environment, python/preflight.py): environments made
// from one `trac-admin initenv` (its trac.ini, its database hard-linked, log and db dirs open to
// every user, so root's Apache user and nobody both get Trac's full answer); --no-preflight rows
// on them first (each SQLite database read: the realistic cost of part 1), then rows for one
// Python process and for one per core (the default) side by side, so their ratio is in one run.
// Beside the default preflight, the same with TRAC_DEPLOY_PREFLIGHT_PLAIN=1 (python/preflight.py
// keeps nothing from one environment to the next: Trac's code as it is), its peer in the same run.
// Beside the first run with the verdicts kept (the default), its peer without a usable cache
// (nothing kept, Trac asked without the stamps: as before), and the second run, which asks Trac
// only about what changed (nothing here): the verdicts kept (inspect/directoryVerdicts.ts); then
// the run after one environment is added beside the others (only it asked).
// Goal (issue 16): 100,000 environments under 30 s and 500 MB, as root and as another user.
// BENCH_SCALE_COUNTS=1000,10000 (part 1) and BENCH_PREFLIGHT_COUNTS=1000,10000 (part 2, the
// default: 100,000 with the preflight takes minutes) choose the sizes; BENCH_PREFLIGHT=0 keeps
// only part 2's --no-preflight rows (the SQLite file reader against SQLite opening each database);
// BENCH_PREFLIGHT_PEERS=0 leaves out the 1-process and PLAIN rows.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, fmt, initEnv, tempRoot, timed, VENV } from './lib.mjs';

const counts = (process.env.BENCH_SCALE_COUNTS ?? '1000,10000,100000').split(',').filter(Boolean).map(Number);
const preflightCounts = (process.env.BENCH_PREFLIGHT_COUNTS ?? '1000,10000').split(',').filter(Boolean).map(Number);
const root = tempRoot('trac-deploy-bench-scale-');
const asRoot = process.getuid?.() === 0;
const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--init-groups'];
const load = () => `load ${os.loadavg()[0].toFixed(1)}`;

function print(count, who, r) {
  console.log(`${String(count).padStart(7)} environments, ${who.padEnd(68)} ${fmt(r.seconds)} s wall, ${fmt(r.cpu)} s cpu, ${fmt(r.mib, 0)} MiB peak, ${fmt((r.seconds * 1000) / count)} ms/env (${load()})`);
}

try {
  for (const count of counts) {
    const parent = path.join(root, `p${count}`);
    for (let i = 0; i < count; i++) {
      const env = path.join(parent, `env${String(i).padStart(6, '0')}`);
      fs.mkdirSync(path.join(env, 'conf'), { recursive: true });
      fs.writeFileSync(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
      fs.writeFileSync(path.join(env, 'conf', 'trac.ini'), `[project]\nname = Project ${i}\n\n[trac]\ndatabase = sqlite:db/trac.db\n`);
    }
    const args = [CLI, 'inspect', parent, '--json', '--no-preflight'];
    print(count, `--no-preflight, ${asRoot ? 'root (access check as the Apache user)' : 'this user'}`, timed('node', args));
    if (asRoot) print(count, '--no-preflight, nobody (setpriv)', timed(asNobody[0], [...asNobody.slice(1), 'node', ...args]));
    // Every environment gets findings for the public URL (base_url, secure_cookies): they must
    // join their environments without a search of all of them per environment.
    print(count, '--no-preflight --server-name (URL findings for every environment)', timed('node', [...args, '--server-name', 'trac.example.org']));
    print(count, 'peer: find | xargs cat of VERSION and trac.ini', timed('sh', ['-c', `find "${parent}" -name VERSION -o -name trac.ini | xargs cat >/dev/null`]));
    fs.rmSync(parent, { recursive: true, force: true });
  }

  if (preflightCounts.length > 0) {
    const template = initEnv(path.join(root, 'template'), 'Template');
    const ini = fs.readFileSync(path.join(template, 'conf', 'trac.ini'), 'utf8');
    const db = path.join(template, 'db', 'trac.db');
    for (const count of preflightCounts) {
      const parent = path.join(root, `q${count}`);
      fs.mkdirSync(parent, { mode: 0o755 });
      fs.mkdirSync(path.join(parent, '.egg-cache'), { mode: 0o777 });
      fs.chmodSync(path.join(parent, '.egg-cache'), 0o777);
      for (let i = 0; i < count; i++) {
        const env = path.join(parent, `env${String(i).padStart(6, '0')}`);
        for (const dir of ['conf', 'db', 'log']) fs.mkdirSync(path.join(env, dir), { recursive: true });
        fs.chmodSync(path.join(env, 'db'), 0o777);
        fs.chmodSync(path.join(env, 'log'), 0o777);
        fs.writeFileSync(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
        fs.writeFileSync(path.join(env, 'conf', 'trac.ini'), ini.replace('name = Template', `name = Project ${i}`));
        // As in an environment that has served: its log is there (Trac would make it while asked).
        fs.writeFileSync(path.join(env, 'log', 'trac.log'), '', { mode: 0o666 });
        fs.chmodSync(path.join(env, 'log', 'trac.log'), 0o666);
        // A copy of the database per 10,000 environments: a file takes at most 65,000 links.
        const copy = path.join(root, `trac-${Math.floor(i / 10_000)}.db`);
        if (i % 10_000 === 0) {
          fs.copyFileSync(db, copy);
          fs.chmodSync(copy, 0o666);
        }
        fs.linkSync(copy, path.join(env, 'db', 'trac.db'));
      }
      const args = [CLI, 'inspect', parent, '--json', '--python-home', VENV];
      const who = asRoot ? 'root (preflight as the Apache user)' : 'this user';
      // The same environments without Trac: what reading them costs. Each database is read by
      // trac-deploy's SQLite file reader (SQLite itself opens one, to accept the schema), and, as
      // the peer in the same run, by SQLite for every one (TRAC_DEPLOY_SQLITE_FILE_READER=0,
      // what inspect did before the reader), alternately, as this user and as nobody.
      const noPreflight = [CLI, 'inspect', parent, '--json', '--no-preflight'];
      const sqliteEverywhere = { TRAC_DEPLOY_SQLITE_FILE_READER: '0' };
      const me = asRoot ? 'root' : 'this user';
      print(count, `--no-preflight, initenv-made, file reader, ${me}`, timed('node', noPreflight));
      print(count, `--no-preflight, initenv-made, SQLite opens each (peer), ${me}`, timed('node', noPreflight, sqliteEverywhere));
      if (asRoot) {
        print(count, '--no-preflight, initenv-made, file reader, nobody (setpriv)', timed(asNobody[0], [...asNobody.slice(1), 'node', ...noPreflight]));
        print(count, '--no-preflight, initenv-made, SQLite opens each (peer), nobody', timed(asNobody[0], [...asNobody.slice(1), 'node', ...noPreflight], sqliteEverywhere));
      }
      if (process.env.BENCH_PREFLIGHT === '0') {
        fs.rmSync(parent, { recursive: true, force: true });
        continue;
      }
      // Each first run with an empty cache of its own; the second run with the cache the first
      // filled. The peer of the first run: no usable cache (a directory open to others is
      // refused), so nothing is kept and Trac is asked without the stamps (as before the verdicts
      // of a directory were kept).
      const cacheFor = (name, owner) => {
        const dir = path.join(root, `cache-${count}-${name}`);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { mode: 0o700 });
        if (owner !== undefined) fs.chownSync(dir, owner, owner);
        return { TRAC_DEPLOY_CACHE_DIR: dir };
      };
      const noCache = { TRAC_DEPLOY_CACHE_DIR: path.join(root, 'open-cache') };
      fs.mkdirSync(noCache.TRAC_DEPLOY_CACHE_DIR, { recursive: true, mode: 0o777 });
      fs.chmodSync(noCache.TRAC_DEPLOY_CACHE_DIR, 0o777);
      // BENCH_PREFLIGHT_PEERS=0: without the 1-process and PLAIN rows (minutes at 10,000 and more).
      const peers = process.env.BENCH_PREFLIGHT_PEERS !== '0';
      if (peers) print(count, `preflight, 1 process, ${who}`, timed('node', args, { TRAC_DEPLOY_PREFLIGHT_WORKERS: '1', ...cacheFor('one') }));
      const kept = cacheFor('default');
      print(count, `preflight, one per core (default), first run, ${who}`, timed('node', args, kept));
      print(count, `preflight, one per core, first run, nothing kept (peer: as before), ${who}`, timed('node', args, noCache));
      print(count, `preflight, second run (verdicts kept), ${who}`, timed('node', args, kept));
      // The peer: the same, with Trac's code as it is (nothing kept from one environment to the next).
      if (peers) print(count, `preflight, one per core, Trac's code as it is (PLAIN, peer), ${who}`, timed('node', args, { TRAC_DEPLOY_PREFLIGHT_PLAIN: '1', ...noCache }));
      print(count, `preflight, second run again (verdicts kept), ${who}`, timed('node', args, kept));
      // One environment added beside the others (the directory gets a new entry): only it is
      // asked, the others stay kept (the directory itself is not stamped: each kept verdict tests that its
      // environment can be reached).
      const added = path.join(parent, 'added');
      fs.cpSync(path.join(parent, 'env000000'), added, { recursive: true });
      print(count, `preflight, one environment added (the others kept), ${who}`, timed('node', args, kept));
      fs.rmSync(added, { recursive: true, force: true });
      if (asRoot) {
        const nobodyUid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
        const asNobodyArgs = [...asNobody.slice(1), 'node', ...args];
        if (peers) print(count, 'preflight, 1 process, nobody (setpriv)', timed(asNobody[0], asNobodyArgs, { TRAC_DEPLOY_PREFLIGHT_WORKERS: '1', ...cacheFor('nobody-one', nobodyUid) }));
        const keptNobody = cacheFor('nobody-default', nobodyUid);
        print(count, 'preflight, one per core (default), first run, nobody (setpriv)', timed(asNobody[0], asNobodyArgs, keptNobody));
        print(count, 'preflight, one per core, first run, nothing kept (peer: as before), nobody', timed(asNobody[0], asNobodyArgs, noCache));
        print(count, 'preflight, second run (verdicts kept), nobody (setpriv)', timed(asNobody[0], asNobodyArgs, keptNobody));
      }
      fs.rmSync(parent, { recursive: true, force: true });
    }
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
