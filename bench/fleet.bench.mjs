// Wall time of `trac-deploy fleet --run` rolling a PostgreSQL-backed environment out to three
// hosts of the namespace test bed (SSH, serial: 1), and of the idempotent re-run, beside a peer
// in the same run: `ansible -m ping` of the same hosts one at a time (Ansible's floor there).
// The figures come from test/integration/fleetRollout.test.ts, which builds and tears down the
// bed (root, ip netns, sshd); it records times and never asserts on them.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.getuid?.() !== 0) {
  console.log('fleet: skipped (the test bed needs root for network namespaces)');
  process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trac-deploy-bench-fleet-'));
const out = path.join(dir, 'timings.json');
try {
  const run = await execa('npx', ['vitest', 'run', 'test/integration/fleetRollout.test.ts'], {
    cwd: ROOT,
    env: { FLEET_BENCH_OUT: out },
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  if (run.exitCode !== 0 || !fs.existsSync(out)) {
    console.log(run.all?.split('\n').slice(-40).join('\n'));
    console.log('fleet: FAILED (the rollout test failed; figures not recorded)');
    process.exit(1);
  }
  const t = JSON.parse(fs.readFileSync(out, 'utf8'));
  const f = (n) => `${n.toFixed(1)} s`;
  const load = os.loadavg()[0].toFixed(1);
  console.log(`fleet, 3 hosts, serial 1 (load average ${load} on ${os.cpus().length} cores):`);
  console.log(`  rollout (new virtualenvs, static files, config, reload, checks)  ${f(t.rollout)}  = ${(t.rollout / t.ping).toFixed(1)} x ping`);
  console.log(`  idempotent re-run (changed=0 on every host)                     ${f(t.rerun)}  = ${(t.rerun / t.ping).toFixed(1)} x ping, ${(t.rerun / t.rollout).toFixed(2)} x rollout`);
  console.log(`  failing rollout (host 2 restored, host 3 untouched)             ${f(t.failure)}`);
  console.log(`  peer: ansible -m ping, the 3 hosts one at a time                ${f(t.ping)}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
