import { execa, type ResultPromise } from 'execa';
import fs from 'fs-extra';
import getPort from 'get-port';
import os from 'node:os';
import path from 'node:path';

const PG_BIN = process.env.TRAC_DEPLOY_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A throwaway PostgreSQL cluster: its own temp dir, 127.0.0.1 and a free port, a socket dir inside. */
export interface PostgresServer {
  root: string;
  port: number;
  socketDir: string;
  /** Run SQL as the superuser over the socket; returns psql's unaligned, tuples-only output. */
  sql(statement: string, database?: string): Promise<string>;
  /** A login role with a password, and databases it owns. */
  createRole(name: string, password: string): Promise<void>;
  createDatabase(name: string, owner: string): Promise<void>;
  /** Idle connections of a role, from pg_stat_activity. */
  idleConnections(role: string): Promise<number>;
  stop(): Promise<void>;
}

/** Running postmasters and their temp dirs, for the exit hook. */
const running = new Set<ResultPromise>();
const roots = new Set<string>();
let exitHooked = false;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execa('id', ['-u', 'postgres'])).stdout);
  const gid = Number((await execa('id', ['-g', 'postgres'])).stdout);
  return { uid, gid };
}

/** pg_isready until it answers or the postmaster exits. */
async function ready(child: ResultPromise, socketDir: string, port: number): Promise<boolean> {
  let exited = false;
  void child.then(() => (exited = true), () => (exited = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !exited) {
    const probe = await execa(path.join(PG_BIN, 'pg_isready'), ['-q', '-h', socketDir, '-p', String(port)], { reject: false });
    if (probe.exitCode === 0) return true;
    await sleep(100);
  }
  return false;
}

function asPostgres(file: string, args: string[]) {
  return execa('runuser', ['-u', 'postgres', '--', file, ...args], { stdin: 'ignore', env: { LANG: 'C.UTF-8' } });
}

/**
 * initdb as the postgres user into a temp dir, then the postmaster as our child (uid postgres),
 * listening on 127.0.0.1 and a free port only, with its socket dir in the temp dir.
 * Local (socket) connections trust the superuser; TCP connections need a password.
 * Always call stop() (afterAll): it stops the server and removes the directory.
 */
export async function startPostgres(options: { maxConnections?: number } = {}): Promise<PostgresServer> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-pg-'));
  const data = path.join(root, 'data');
  const socketDir = path.join(root, 'sock');
  await fs.mkdirp(socketDir);
  await fs.chmod(root, 0o755);
  await execa('chown', ['-R', 'postgres:postgres', root]);
  let server: ResultPromise | null = null;
  const halt = async () => {
    const child = server;
    if (!child) return;
    server = null;
    // Fast shutdown; the postmaster is our own child, so it is reaped (no zombie).
    child.kill('SIGINT');
    const exited = await Promise.race([child.then(() => true, () => true), sleep(15_000).then(() => false)]);
    if (!exited) child.kill('SIGKILL');
    await child.catch(() => undefined);
    running.delete(child);
  };
  const stop = async () => {
    await halt();
    roots.delete(root);
    await fs.remove(root);
  };
  roots.add(root);
  try {
    await asPostgres(path.join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
    const { uid, gid } = await postgresIds();
    let port = 0;
    for (let attempt = 0; attempt < 3 && !server; attempt++) {
      port = await getPort({ host: '127.0.0.1' });
      const child = execa(
        path.join(PG_BIN, 'postgres'),
        ['-D', data, '-c', 'listen_addresses=127.0.0.1', '-c', `port=${port}`, '-c', `unix_socket_directories=${socketDir}`,
          '-c', `max_connections=${options.maxConnections ?? 50}`, '-c', 'fsync=off'],
        { uid, gid, stdin: 'ignore', reject: false, all: true, env: { LANG: 'C.UTF-8' }, cwd: root },
      );
      running.add(child);
      hookExit();
      server = child;
      if (!(await ready(child, socketDir, port))) {
        await halt();
        const log = String((await child).all ?? '');
        if (!/could not bind|already in use/i.test(log) || attempt === 2) throw new Error(`PostgreSQL did not start: ${log}`);
      }
    }
    if (!server) throw new Error('PostgreSQL did not start');
    const sql = async (statement: string, database = 'postgres') => {
      const result = await execa('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', database, '-c', statement], { stdin: 'ignore' });
      return String(result.stdout).trim();
    };
    return {
      root,
      port,
      socketDir,
      sql,
      createRole: async (name, password) => {
        await sql(`CREATE ROLE "${name}" LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
      },
      createDatabase: async (name, owner) => {
        await sql(`CREATE DATABASE "${name}" OWNER "${owner}" ENCODING 'UTF8'`);
      },
      idleConnections: async (role) =>
        Number(await sql(`SELECT count(*) FROM pg_stat_activity WHERE usename = '${role.replace(/'/g, "''")}' AND state = 'idle'`)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Clusters still running when the test process exits are killed (an 'exit' handler cannot wait). */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const root of roots) fs.removeSync(root);
  });
}
