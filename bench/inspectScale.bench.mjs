// Bench 4: `inspect --json` on a parent directory of 1,000, 10,000 and 100,000 synthetic
// environments (VERSION + conf/trac.ini, SQLite path configured, no database file): wall time,
// CPU and peak memory, as the user running the bench (root: with the Apache user's access check)
// and as nobody (setpriv; no access check). Peer in the same run: reading the same files with
// `cat` through find + xargs, the least any inspection must do.
// Goal (issue 16): 100,000 environments under 30 s and 500 MB, as root and as another user.
// BENCH_SCALE_COUNTS=1000,10000 runs fewer.
import fs from 'node:fs';
import path from 'node:path';
import { CLI, fmt, tempRoot, timed } from './lib.mjs';

const counts = (process.env.BENCH_SCALE_COUNTS ?? '1000,10000,100000').split(',').map(Number);
const root = tempRoot('trac-deploy-bench-scale-');
const asRoot = process.getuid?.() === 0;
try {
  for (const count of counts) {
    const parent = path.join(root, `p${count}`);
    for (let i = 0; i < count; i++) {
      const env = path.join(parent, `env${String(i).padStart(6, '0')}`);
      fs.mkdirSync(path.join(env, 'conf'), { recursive: true });
      fs.writeFileSync(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
      fs.writeFileSync(path.join(env, 'conf', 'trac.ini'), `[project]\nname = Project ${i}\n\n[trac]\ndatabase = sqlite:db/trac.db\n`);
    }
    const rows = [[asRoot ? 'root (access check as the Apache user)' : 'this user', timed('node', [CLI, 'inspect', parent, '--json'])]];
    if (asRoot) rows.push(['nobody (setpriv)', timed('setpriv', ['--reuid=nobody', '--regid=nogroup', '--init-groups', 'node', CLI, 'inspect', parent, '--json'])]);
    rows.push(['peer: find | xargs cat of VERSION and trac.ini', timed('sh', ['-c', `find "${parent}" -name VERSION -o -name trac.ini | xargs cat >/dev/null`])]);
    for (const [who, r] of rows) {
      console.log(`${String(count).padStart(7)} environments, ${who.padEnd(48)} ${fmt(r.seconds)} s wall, ${fmt(r.cpu)} s cpu, ${fmt(r.mib, 0)} MiB peak`);
    }
    fs.rmSync(parent, { recursive: true, force: true });
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
