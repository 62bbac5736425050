// Bench 4: `inspect --json` on a parent directory of 1,000 and 10,000 synthetic environments
// (VERSION + conf/trac.ini, SQLite path configured, no database file): wall time, peak memory.
import fs from 'node:fs';
import path from 'node:path';
import { CLI, fmt, tempRoot, timed } from './lib.mjs';

const root = tempRoot('trac-deploy-bench-scale-');
try {
  for (const count of [1000, 10000]) {
    const parent = path.join(root, `p${count}`);
    for (let i = 0; i < count; i++) {
      const env = path.join(parent, `env${String(i).padStart(5, '0')}`);
      fs.mkdirSync(path.join(env, 'conf'), { recursive: true });
      fs.writeFileSync(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
      fs.writeFileSync(path.join(env, 'conf', 'trac.ini'), `[project]\nname = Project ${i}\n\n[trac]\ndatabase = sqlite:db/trac.db\n`);
    }
    const r = timed('node', [CLI, 'inspect', parent, '--json']);
    console.log(`${String(count).padStart(6)} environments: ${fmt(r.seconds)} s wall, ${fmt(r.cpu)} s cpu, ${fmt(r.mib, 0)} MiB peak`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
