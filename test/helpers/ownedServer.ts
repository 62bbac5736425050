import { type ResultPromise } from 'execa';
import fs from 'fs-extra';
import getPort from 'get-port';
import os from 'node:os';
import path from 'node:path';

/**
 * A database server run as our own child (so it is reaped, never a zombie under PID 1), in its
 * own temp dir, on 127.0.0.1 and a free port. A busy port is retried; stop() ends the server
 * and removes the directory; servers still running when the test process exits are killed.
 */
export interface OwnedServerSpec {
  /** For messages: "PostgreSQL", "MariaDB". */
  name: string;
  tempPrefix: string;
  /** Make the data directory etc. inside root (runs once). */
  prepare(root: string): Promise<void>;
  /** Start the server in the foreground on the given port. */
  spawn(root: string, port: number): ResultPromise;
  /** One readiness probe: true once the server answers. */
  probe(root: string, port: number): Promise<boolean>;
  readyTimeoutMs: number;
  stopSignal: NodeJS.Signals;
  stopGraceMs: number;
  /** The server's own words for a port someone else took. */
  portInUse: RegExp;
}

export interface OwnedServer {
  root: string;
  port: number;
  stop(): Promise<void>;
}

const running = new Set<ResultPromise>();
const roots = new Set<string>();
let exitHooked = false;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export async function startOwnedServer(spec: OwnedServerSpec): Promise<OwnedServer> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), spec.tempPrefix));
  roots.add(root);
  hookExit();
  let server: ResultPromise | null = null;
  const halt = async () => {
    const child = server;
    if (!child) return;
    server = null;
    child.kill(spec.stopSignal);
    const exited = await Promise.race([child.then(() => true, () => true), sleep(spec.stopGraceMs).then(() => false)]);
    if (!exited) child.kill('SIGKILL');
    await child.catch(() => undefined);
    running.delete(child);
  };
  const stop = async () => {
    await halt();
    roots.delete(root);
    await fs.remove(root);
  };
  try {
    await fs.chmod(root, 0o755);
    await spec.prepare(root);
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await getPort({ host: '127.0.0.1' });
      const child = spec.spawn(root, port);
      running.add(child);
      server = child;
      if (await ready(spec, child, root, port)) return { root, port, stop };
      await halt();
      const log = String((await child).all ?? '');
      if (!spec.portInUse.test(log) || attempt === 2) throw new Error(`${spec.name} did not start: ${log}`);
    }
    throw new Error(`${spec.name} did not start`);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function ready(spec: OwnedServerSpec, child: ResultPromise, root: string, port: number): Promise<boolean> {
  let exited = false;
  void child.then(() => (exited = true), () => (exited = true));
  const deadline = Date.now() + spec.readyTimeoutMs;
  while (Date.now() < deadline && !exited) {
    if (await spec.probe(root, port)) return true;
    await sleep(100);
  }
  return false;
}

/** An 'exit' handler cannot wait: kill what is left and remove its directories. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const root of roots) fs.removeSync(root);
  });
}
