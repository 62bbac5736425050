import fs from 'fs-extra';
import path from 'node:path';
import { expect } from 'vitest';
import { withThrowawayServer } from '../../src/apache/throwawayServer.js';
import { runCli } from './cli.js';
import { VENV } from './paths.js';
import { tempDir } from './tempDir.js';

export interface PoolRun {
  /** Idle connections of the Trac user after the requests, read while Apache still runs. */
  idle: number;
  wsgi: string;
  stderr: string;
}

/**
 * generate PARENT with --pool CHOICE, serve it through a throwaway Apache, make `perEnv`
 * requests to each environment (two at a time per environment, so several threads work),
 * then count the database user's idle connections once they stop changing.
 */
export async function serveAndCountIdle(options: {
  parent: string;
  environments: string[];
  pool: 'auto' | 'keep' | 'disable';
  perEnv: number;
  countIdle: () => Promise<number>;
}): Promise<PoolRun> {
  const { parent, environments, pool, perEnv, countIdle } = options;
  const out = await tempDir();
  const name = `pool-${pool}`;
  const result = await runCli(['generate', parent, '--out', out, '--python-home', VENV, '--name', name, '--pool', pool]);
  expect(result.code, result.stderr).toBe(0);
  const wsgi = await fs.readFile(path.join(out, `${name}.wsgi`), 'utf8');
  const idle = await withThrowawayServer({ includes: [path.join(out, `${name}.conf`)] }, async (server) => {
    for (let round = 0; round < Math.ceil(perEnv / 2); round++) {
      const responses = await Promise.all(environments.flatMap((env) => [0, 1].map(() => fetch(server.url(`/trac/${env}/wiki/WikiStart`)))));
      for (const response of responses) {
        const body = await response.text();
        expect(response.status, `${response.url}\n${body.slice(0, 800)}\n${await server.errorLog()}`).toBe(200);
        expect(body).toContain('Welcome to Trac');
      }
    }
    return settled(countIdle);
  });
  return { idle, wsgi, stderr: result.stderr };
}

/** A count read until two readings 250 ms apart agree (connections being closed are gone). */
async function settled(count: () => Promise<number>): Promise<number> {
  let last = await count();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await count();
    if (now === last) return now;
    last = now;
  }
  return last;
}
