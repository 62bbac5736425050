import fs from 'fs-extra';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withThrowawayServer } from '../../src/apache/throwawayServer.js';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * What a visitor could guess must never come back: the .wsgi script, trac.ini, the SQLite
 * database, through plain, dot-dot and percent-encoded paths. Requests are sent raw over a
 * socket so that no client normalises the path first.
 */
let root: string;
let env: string;
let out: string;
let secrets: { name: string; text: string }[];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-exposure-'));
  await fs.chmod(root, 0o755);
  env = await initEnv(path.join(root, 'env'), 'Exposure Project');
  await fs.appendFile(path.join(env, 'conf', 'trac.ini'), '\n[exposure]\nsecret = ini-secret-7f3a9c\n');
  await chownToApache(env);
  out = path.join(root, 'deploy');
  const r = await runCli(['generate', env, '--out', out, '--python-home', VENV, '--name', 'site']);
  expect(r.code, r.stderr).toBe(0);
  const db = await fs.readFile(path.join(env, 'db', 'trac.db'));
  secrets = [
    { name: 'the .wsgi script', text: 'from trac.web' },
    { name: 'the .wsgi script', text: 'dispatch_request(environ' },
    { name: 'trac.ini', text: 'ini-secret-7f3a9c' },
    { name: 'trac.db', text: 'SQLite format 3' },
    { name: 'trac.db', text: db.subarray(100, 140).toString('latin1') },
  ];
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.setTimeout(30000, () => socket.destroy(new Error(`timeout on ${target}`)));
    socket.on('connect', () => socket.write(`GET ${target} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = data.toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('files a visitor could guess are never served', () => {
  it('script, trac.ini and trac.db stay private through plain, dot-dot and encoded paths', async () => {
    const d = out; // absolute path of the script directory
    const targets = [
      '/trac/wiki/WikiStart',
      `${d}/site.wsgi`,
      `${d}/`,
      `${d}/site.conf`,
      '/site.wsgi',
      '/trac/site.wsgi',
      '/trac/../site.wsgi',
      '/trac/../conf/trac.ini',
      '/trac/%2e%2e/conf/trac.ini',
      '/trac/%2e%2e%2fconf%2ftrac.ini',
      '/trac/..%2fconf/trac.ini',
      '/trac/chrome/../../db/trac.db',
      '/trac/chrome/%2e%2e/%2e%2e/db/trac.db',
      '/trac/chrome/site/../../conf/trac.ini',
      '/trac/chrome/site/%2e%2e/%2e%2e/conf/trac.ini',
      '/trac/conf/trac.ini',
      '/trac/db/trac.db',
      `/trac/${env}/conf/trac.ini`,
      `${env}/conf/trac.ini`,
      `${env}/db/trac.db`,
      '/trac/%00/conf/trac.ini',
      '/trac/.%2e/.%2e/conf/trac.ini',
      '//etc/passwd',
      '/trac/raw-attachment/../../conf/trac.ini',
    ];
    await withThrowawayServer({ includes: [path.join(out, 'site.conf')] }, async (server) => {
      const statuses: Record<string, number> = {};
      for (const target of targets) {
        const { status, body } = await rawGet(server.port, target);
        statuses[target] = status;
        for (const secret of secrets) expect(body.includes(secret.text), `${target} returned ${secret.name}`).toBe(false);
        expect(body, target).not.toContain('Index of');
      }
      // the site itself works, so the checks above ran against a live Trac
      expect(statuses['/trac/wiki/WikiStart'], await server.errorLog()).toBe(200);
      // nothing but Trac answered 200 for the guessed paths outside /trac
      for (const target of [`${d}/site.wsgi`, `${d}/`, `${d}/site.conf`, '/site.wsgi', `${env}/conf/trac.ini`, `${env}/db/trac.db`]) {
        expect(statuses[target], target).not.toBe(200);
      }
    });
  });
});
