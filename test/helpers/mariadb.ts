import { execa } from 'execa';
import path from 'node:path';
import { startOwnedServer } from './ownedServer.js';

/** A throwaway MariaDB server: its own temp dir, 127.0.0.1 and a free port, a socket inside. */
export interface MariaDbServer {
  root: string;
  port: number;
  socket: string;
  /** Run SQL as root over the socket; returns tab-separated rows without column names. */
  sql(statement: string): Promise<string>;
  /** A database Trac accepts (utf8mb4, utf8mb4_bin) and a password user allowed into it over TCP. */
  createDatabase(name: string, user: string, password: string): Promise<void>;
  /** Idle (Sleep) connections of a user, from the process list. */
  idleConnections(user: string): Promise<number>;
  stop(): Promise<void>;
}

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * mariadb-install-db into a temp dir, then mariadbd as our child (uid mysql) on 127.0.0.1 and a
 * free port, no networking but that. Always call stop() (afterAll): it stops the server and
 * removes the directory.
 */
export async function startMariaDb(): Promise<MariaDbServer> {
  const uid = Number((await execa('id', ['-u', 'mysql'])).stdout);
  const gid = Number((await execa('id', ['-g', 'mysql'])).stdout);
  const data = (root: string) => path.join(root, 'data');
  const socketOf = (root: string) => path.join(root, 'mysqld.sock');
  const owned = await startOwnedServer({
    name: 'MariaDB',
    tempPrefix: 'trac-deploy-mariadb-',
    prepare: async (root) => {
      await execa('chown', ['mysql:mysql', root]);
      await execa('mariadb-install-db', ['--no-defaults', `--datadir=${data(root)}`, '--user=mysql', '--skip-test-db', '--auth-root-authentication-method=socket'], { stdin: 'ignore' });
    },
    spawn: (root, port) =>
      execa(
        'mariadbd',
        ['--no-defaults', `--datadir=${data(root)}`, `--socket=${socketOf(root)}`, `--port=${port}`, '--bind-address=127.0.0.1', '--skip-name-resolve',
          `--pid-file=${path.join(root, 'mariadbd.pid')}`, '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=8M', '--max-connections=50'],
        { uid, gid, stdin: 'ignore', reject: false, all: true, cwd: root, env: { LANG: 'C.UTF-8' } },
      ),
    probe: async (root) =>
      (await execa('mariadb-admin', ['--no-defaults', `--socket=${socketOf(root)}`, '-u', 'root', 'ping'], { reject: false, stdin: 'ignore' })).exitCode === 0,
    readyTimeoutMs: 60_000,
    stopSignal: 'SIGTERM',
    stopGraceMs: 20_000,
    portInUse: /in use|bind/i,
  });
  const { root, port, stop } = owned;
  const socket = socketOf(root);
  const sql = async (statement: string) => {
    const result = await execa('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '--batch', '--skip-column-names', '-e', statement], { stdin: 'ignore' });
    return String(result.stdout).trim();
  };
  return {
    root,
    port,
    socket,
    sql,
    createDatabase: async (name, user, password) => {
      await sql(
        `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; ` +
          `CREATE USER IF NOT EXISTS ${quote(user)}@'%' IDENTIFIED BY ${quote(password)}; ` +
          `GRANT ALL ON \`${name}\`.* TO ${quote(user)}@'%';`,
      );
    },
    idleConnections: async (user) =>
      Number(await sql(`SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ${quote(user)} AND COMMAND = 'Sleep'`)),
    stop,
  };
}
