import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import fs from 'fs-extra';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { curl, startFleetBed, type FleetBed } from '../helpers/fleetBed.js';
import { VENV } from '../helpers/paths.js';
import { ansibleProgram } from '../../src/fleet/ansibleTools.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The fleet, for real: three web hosts in their own namespaces reached by Ansible over SSH,
 * PostgreSQL in a fourth, the environment on storage all of them see. The tests run in order:
 * a rollout, a re-run that changes nothing, then a rollout that fails on the second host.
 */
const PROJECT = 'Fleet & <Co>';
let bed: FleetBed;
let env: string;
let work: string;
/** bench/fleet.bench.mjs sets FLEET_BENCH_OUT: the runs' wall times are written there (never asserted). */
const timings: Record<string, number> = {};

interface FleetJson {
  run: { exitCode: number; recap: Record<string, { changed: number; failed: number; rescued: number; unreachable: number }>; restored: string[] } | null;
  rules: { pool: { choice: string; reason: string }; budgets: { pooled: number; maxConnections: number | null }[] };
}

async function fleet(label: string, out: string, ...flags: string[]): Promise<CliResult & { json: FleetJson }> {
  const started = performance.now();
  const result = await runCli(['fleet', env, '--inventory', bed.inventory, '--out', out, '--python-home', VENV, '--probe-db', '--run', '--json', ...flags], {
    env: bed.ansibleEnv,
  });
  timings[label] = (performance.now() - started) / 1000;
  if (process.env.FLEET_LOG) await fs.appendFile(process.env.FLEET_LOG, `${result.stderr}\n`);
  let json: FleetJson;
  try {
    json = JSON.parse(result.stdout) as FleetJson;
  } catch {
    throw new Error(`fleet printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { ...result, json };
}

/** The snippet's name on the hosts: apply's ordered name for /trac (one path segment: 98-). */
const conf = (host: number, name = '98-env.conf', dir = 'conf-available') => path.join(bed.hosts[host]!.dirs.etcApache, dir, name);
const sha = async (file: string) => createHash('sha256').update(await fs.readFile(file)).digest('hex');

beforeAll(async () => {
  bed = await startFleetBed({ hosts: 3 });
  work = path.join(bed.root, 'work');
  await fs.mkdirp(work);
  await bed.db.sql("CREATE ROLE trac LOGIN PASSWORD 'fleet-secret'");
  await bed.db.sql('CREATE DATABASE trac OWNER trac');
  env = await initEnv(path.join(bed.shared, 'env'), PROJECT, `postgres://trac:fleet-secret@${bed.db.address}:5432/trac`);
  await chownToApache(env);
}, 300_000);

afterAll(async () => {
  if (process.env.FLEET_BENCH_OUT && bed) {
    // The peer: Ansible's own floor on this bed, a ping of each host one at a time.
    const started = performance.now();
    await execa(ansibleProgram('ansible'), ['trac_web', '-i', bed.inventory, '-m', 'ansible.builtin.ping', '-f', '1'], { env: bed.ansibleEnv, stdin: 'ignore', reject: false });
    timings.ping = (performance.now() - started) / 1000;
    await fs.writeJson(process.env.FLEET_BENCH_OUT, timings);
  }
  await bed?.teardown();
}, 120_000);

describe('fleet --run on three hosts', () => {
  test('a rollout makes all three hosts serve the site, one at a time', async () => {
    const result = await fleet('rollout', path.join(work, 'v1'));
    expect(result.stderr).toContain('PLAY RECAP');
    expect(result.code, result.stderr).toBe(0);
    // --probe-db read max_connections (100): 3 hosts x 2 x min(10, 5) = 30 fits, pooling kept.
    expect(result.json.rules.budgets[0]).toMatchObject({ pooled: 30, maxConnections: 100 });
    expect(result.json.rules.pool.choice).toBe('keep');
    for (const host of ['web1', 'web2', 'web3']) expect(result.json.run?.recap[host]).toMatchObject({ failed: 0, unreachable: 0 });
    for (const host of bed.hosts) {
      const page = await curl(`http://${host.address}/trac/`);
      expect(page.status, `${host.name}: ${page.body.slice(0, 300)}`).toBe(200);
      expect(page.body).toContain('Fleet &amp; &lt;Co&gt;');
      const css = await curl(`http://${host.address}/trac/chrome/common/css/trac.css`);
      expect(css.status).toBe(200);
      expect(css.body).toContain('body');
    }
  }, 600_000);

  test('a second run changes nothing', async () => {
    const result = await fleet('rerun', path.join(work, 'v1'));
    expect(result.code, result.stderr).toBe(0);
    expect(Object.keys(result.json.run?.recap ?? {}).sort()).toEqual(['web1', 'web2', 'web3']);
    for (const [host, recap] of Object.entries(result.json.run!.recap)) expect({ host, ...recap }).toMatchObject({ host, changed: 0, failed: 0 });
  }, 600_000);

  test('a host that lacks a module fails, is restored and reloaded; the rollout stops there', async () => {
    const before = await Promise.all([0, 1, 2].map((i) => sha(conf(i))));
    // web2's Apache lacks mod_auth_digest: its .load names a module file that is not there.
    await fs.writeFile(
      path.join(bed.hosts[1]!.dirs.etcApache, 'mods-available', 'auth_digest.load'),
      'LoadModule auth_digest_module /usr/lib/apache2/modules/mod_auth_digest_removed.so\n',
    );
    const users = path.join(bed.shared, 'htdigest');
    const ha1 = createHash('md5').update('alice:Trac:wonderland').digest('hex');
    await fs.writeFile(users, `alice:Trac:${ha1}\n`, { mode: 0o644 });

    const result = await fleet('failure', path.join(work, 'v2'), '--auth', 'digest', '--auth-user-file', users);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Stop the rollout at this host');
    const recap = result.json.run!.recap;
    expect(recap.web1).toMatchObject({ failed: 0 });
    expect(recap.web2).toMatchObject({ failed: 1, rescued: 1 });
    expect(recap.web3).toBeUndefined();
    expect(result.json.run!.restored).toEqual(['web2']);

    // web1 runs the new version: /login asks for Digest credentials.
    const login1 = await curl(`http://${bed.hosts[0]!.address}/trac/login`);
    expect(login1.status).toBe(401);
    expect(login1.headers).toMatch(/WWW-Authenticate: Digest/i);
    // web2 was restored: the previous configuration, byte for byte, no digest module, and it serves.
    expect(await sha(conf(1))).toBe(before[1]);
    expect(await fs.pathExists(path.join(bed.hosts[1]!.dirs.etcApache, 'mods-enabled', 'auth_digest.load'))).toBe(false);
    const page2 = await curl(`http://${bed.hosts[1]!.address}/trac/`);
    expect(page2.status).toBe(200);
    expect(page2.body).toContain('Fleet &amp; &lt;Co&gt;');
    expect((await curl(`http://${bed.hosts[1]!.address}/trac/login`)).status).not.toBe(401);
    // web3 was never reached.
    expect(await sha(conf(2))).toBe(before[2]);
    expect((await curl(`http://${bed.hosts[2]!.address}/trac/`)).status).toBe(200);
    expect((await curl(`http://${bed.hosts[2]!.address}/trac/login`)).status).not.toBe(401);
  }, 600_000);

  test('a host with the configuration under its earlier name (env.conf) is moved to the ordered name', async () => {
    // web3 as an earlier trac-deploy left it: the same snippet as conf-available/env.conf, enabled.
    await fs.move(conf(2), conf(2, 'env.conf'));
    await fs.remove(conf(2, '98-env.conf', 'conf-enabled'));
    await fs.symlink('../conf-available/env.conf', conf(2, 'env.conf', 'conf-enabled'));
    const result = await fleet('renamed', path.join(work, 'v1'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.run?.recap.web3).toMatchObject({ failed: 0 });
    expect(result.json.run!.recap.web3!.changed).toBeGreaterThan(0);
    // Disabled, not deleted; the ordered name enabled; one WSGIDaemonProcess of that name loaded.
    expect(await fs.pathExists(conf(2, 'env.conf', 'conf-enabled'))).toBe(false);
    expect(await fs.pathExists(conf(2, 'env.conf'))).toBe(true);
    expect(await fs.pathExists(conf(2, '98-env.conf', 'conf-enabled'))).toBe(true);
    const page = await curl(`http://${bed.hosts[2]!.address}/trac/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Fleet &amp; &lt;Co&gt;');
  }, 600_000);
});
