import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { startOwnedServer } from './ownedServer.js';

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

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execa('id', ['-u', 'postgres'])).stdout);
  const gid = Number((await execa('id', ['-g', 'postgres'])).stdout);
  return { uid, gid };
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
  const { uid, gid } = await postgresIds();
  const dirs = (root: string) => ({ data: path.join(root, 'data'), socketDir: path.join(root, 'sock') });
  const owned = await startOwnedServer({
    name: 'PostgreSQL',
    tempPrefix: 'trac-deploy-pg-',
    prepare: async (root) => {
      await fs.mkdirp(dirs(root).socketDir);
      await execa('chown', ['-R', 'postgres:postgres', root]);
      await asPostgres(path.join(PG_BIN, 'initdb'), ['-D', dirs(root).data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
    },
    spawn: (root, port) =>
      execa(
        path.join(PG_BIN, 'postgres'),
        ['-D', dirs(root).data, '-c', 'listen_addresses=127.0.0.1', '-c', `port=${port}`, '-c', `unix_socket_directories=${dirs(root).socketDir}`,
          '-c', `max_connections=${options.maxConnections ?? 50}`, '-c', 'fsync=off'],
        { uid, gid, stdin: 'ignore', reject: false, all: true, env: { LANG: 'C.UTF-8' }, cwd: root },
      ),
    probe: async (root, port) =>
      (await execa(path.join(PG_BIN, 'pg_isready'), ['-q', '-h', dirs(root).socketDir, '-p', String(port)], { reject: false })).exitCode === 0,
    readyTimeoutMs: 30_000,
    // Fast shutdown.
    stopSignal: 'SIGINT',
    stopGraceMs: 15_000,
    portInUse: /could not bind|already in use/i,
  });
  const { root, port, stop } = owned;
  const { socketDir } = dirs(root);
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
}
