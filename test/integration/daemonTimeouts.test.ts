import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThrowawayServer } from '../../src/apache/throwawayServer.js';
import { runCli } from '../helpers/cli.js';
import { sleep } from '../helpers/ownedServer.js';
import { FIXTURES, VENV } from '../helpers/paths.js';
import { rawRequest } from '../helpers/rawHttp.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The daemon timeouts against a real hung request: an environment with a one-file plugin whose
 * /sleep holds its thread for 120 s, served by 1 process x 1 thread with request-timeout 8 and
 * queue-timeout 2. No assertion is about how fast: a hung request that is never ended would
 * outlast the client's 60 s wait (the plugin sleeps 120 s), and the site is polled until it answers.
 */
const REQUEST_TIMEOUT = 8;
let root: string;
let env: string;
let server: ThrowawayServer | undefined;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-timeouts-'));
  await fs.chmod(root, 0o755);
  env = await initEnv(path.join(root, 'env'), 'Timeout Project');
  await fs.copy(path.join(FIXTURES, 'plugins', 'sleeper.py'), path.join(env, 'plugins', 'sleeper.py'));
  await chownToApache(env);
  const out = path.join(root, 'out');
  const result = await runCli(['generate', env, '--out', out, '--name', 'slow', '--python-home', VENV, '--processes', '1', '--threads', '1', '--request-timeout', String(REQUEST_TIMEOUT), '--queue-timeout', '2']);
  expect(result.code, result.stderr).toBe(0);
  server = await ThrowawayServer.start({ includes: [path.join(out, 'slow.conf')], logLevel: 'info' });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (root) await fs.remove(root);
});

const port = () => server?.port ?? 0;
const get = (p: string) => rawRequest({ port: port(), path: p, timeoutMs: 60_000 });

/** Poll the wiki until Trac answers 200 again (a restarted daemon loads Trac first). */
async function answersAgain(): Promise<number> {
  const deadline = Date.now() + 90_000;
  let status = 0;
  while (Date.now() < deadline) {
    status = await get('/trac/wiki/WikiStart').then((r) => r.status, () => 0);
    if (status === 200) return status;
    await sleep(500);
  }
  return status;
}

async function waitForMarker(): Promise<void> {
  const marker = path.join(env, 'sleeping');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(await fs.pathExists(marker))) await sleep(100);
  expect(await fs.pathExists(marker), 'the /sleep handler never started').toBe(true);
}

describe('request-timeout and queue-timeout on a hung request', () => {
  it('a request sleeping past request-timeout is ended, the daemon restarts, the site answers again', async () => {
    expect(await get('/trac/wiki/WikiStart').then((r) => r.status)).toBe(200);
    const hung = await get('/trac/sleep').catch((error: Error) => ({ status: 0, body: error.message, headers: {} }));
    expect(hung.body).not.toBe('slept');
    expect(hung.status).not.toBe(200);
    expect(await server?.errorLog()).toMatch(/request time limit exceeded/i);
    expect(await answersAgain()).toBe(200);
  }, 180_000);

  it('with processes x threads requests hung, the next one fails fast (504) instead of queueing, and the site recovers', async () => {
    await fs.remove(path.join(env, 'sleeping'));
    const hung = get('/trac/sleep').catch((error: Error) => ({ status: 0, body: error.message, headers: {} }));
    await waitForMarker();
    const queued = await get('/trac/wiki/WikiStart');
    expect(queued.status, (await server?.errorLog())?.split('\n').slice(-10).join('\n')).toBe(504);
    const ended = await hung;
    expect(ended.body).not.toBe('slept');
    expect(await answersAgain()).toBe(200);
  }, 180_000);
});
