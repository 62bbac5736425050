import fs from 'fs-extra';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../helpers/browserLoad.js';
import { runCli } from '../helpers/cli.js';
import { makeDebianTree, type DebianTree } from '../helpers/debianTree.js';
import { sleep } from '../helpers/ownedServer.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * Why the generated files leave WSGISocketRotation at mod_wsgi's default (On), proven on the real
 * module: requests that workers of the previous generation had read are finished on purpose
 * after a graceful reload (headers sent but for their blank line, which follows 20 ms and
 * 1,500 ms after SIGUSR1). With the generated file they answer 503 (the previous generation's
 * socket is gone) and the site answers at once after; with WSGISocketRotation Off added, the
 * late ones reach the new daemons, which refuse them ("Request origin could not be
 * validated": 500). If a mod_wsgi ever serves them, this test says so and the choice is worth
 * revisiting.
 */
let root: string;
let env: string;
let tree: DebianTree | null = null;
const PENDING = 4;
const PAGE = '/trac/wiki/WikiStart';

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-stragglers-'));
  await fs.chmod(root, 0o755);
  env = await initEnv(path.join(root, 'env'), 'Stragglers');
  await chownToApache(env);
  tree = await makeDebianTree(path.join(root, 'tree'));
  await tree.start();
  const out = path.join(root, 'out');
  const generated = await runCli(['generate', env, '--out', out, '--name', 'live', '--python-home', VENV, '--processes', '1', '--threads', '10']);
  expect(generated.code, generated.stderr).toBe(0);
  expect(await fs.readFile(path.join(out, 'live.conf'), 'utf8')).not.toMatch(/^\s*WSGISocketRotation/m);
  const applied = await runCli(['apply', out, '--apache-root', tree.root]);
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await tree?.stop();
  if (root) await fs.remove(root);
});

/** Requests whose headers are sent but for the final blank line; `finish` sends it. */
async function halfSent(port: number, count: number): Promise<{ finish: () => void; statuses: Promise<number[]> }> {
  const sockets: net.Socket[] = [];
  const statuses: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(`GET ${PAGE} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`);
    sockets.push(socket);
    statuses.push(
      new Promise((resolve) => {
        let head = '';
        socket.on('data', (chunk: Buffer) => {
          head += chunk.toString('latin1');
        });
        socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)));
        socket.on('error', () => undefined);
        socket.setTimeout(120_000, () => socket.destroy());
      }),
    );
  }
  // Let a worker take each connection and start reading its request.
  await sleep(300);
  return { finish: () => sockets.forEach((s) => s.write('\r\n')), statuses: Promise.all(statuses) };
}

/** Until the site answers 200 again (the new generation runs). */
async function settled(port: number): Promise<number> {
  const t0 = Date.now();
  for (let i = 0; i < 120 && (await get(port, PAGE).catch(() => 0)) !== 200; i++) await sleep(250);
  return Date.now() - t0;
}

/** Each delay's statuses for requests finished that long after a graceful reload. */
async function stragglers(delays: number[]): Promise<Record<number, number[]>> {
  const out: Record<number, number[]> = {};
  for (const delay of delays) {
    expect(await settled(tree!.port)).toBeLessThan(30_000);
    const pending = await halfSent(tree!.port, PENDING);
    process.kill((await tree!.pid())!, 'SIGUSR1');
    await sleep(delay);
    pending.finish();
    out[delay] = await pending.statuses;
  }
  return out;
}

describe('requests read before a graceful reload', () => {
  it('answer 503 with the generated file, and 500 once WSGISocketRotation Off is added', async () => {
    const generated = await stragglers([20, 1500]);
    expect(generated, JSON.stringify(generated)).toEqual({ 20: Array(PENDING).fill(503), 1500: Array(PENDING).fill(503) });
    // The site itself is back: the very next request is served.
    expect(await settled(tree!.port)).toBeLessThan(30_000);
    expect(await tree!.errorLog()).toMatch(/\(2\)No such file or directory: .*Unable to connect to WSGI daemon process 'live'/);
    expect(await tree!.errorLog()).not.toMatch(/Request origin could not be validated/);

    await fs.writeFile(path.join(tree!.root, 'conf-enabled', 'rotation-off.conf'), 'WSGISocketRotation Off\n');
    await stragglers([20]); // the reload that reads rotation-off.conf
    const off = await stragglers([1500]);
    expect(off[1500], JSON.stringify(off)).toEqual(Array(PENDING).fill(500));
    expect(await tree!.errorLog()).toMatch(/Request origin could not be validated/);
  }, 300_000);
});
