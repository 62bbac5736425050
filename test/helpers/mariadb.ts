import { execa, type ResultPromise } from 'execa';
import fs from 'fs-extra';
import getPort from 'get-port';
import os from 'node:os';
import path from 'node:path';

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

const running = new Set<ResultPromise>();
const roots = new Set<string>();
let exitHooked = false;

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * mariadb-install-db into a temp dir, then mariadbd as our child (uid mysql) on 127.0.0.1 and a
 * free port, no networking but that. Always call stop() (afterAll): it stops the server and
 * removes the directory.
 */
export async function startMariaDb(): Promise<MariaDbServer> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-mariadb-'));
  roots.add(root);
  const data = path.join(root, 'data');
  const socket = path.join(root, 'mysqld.sock');
  await fs.chmod(root, 0o755);
  let server: ResultPromise | null = null;
  const halt = async () => {
    const child = server;
    if (!child) return;
    server = null;
    child.kill('SIGTERM');
    const exited = await Promise.race([child.then(() => true, () => true), sleep(20_000).then(() => false)]);
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
    await execa('chown', ['mysql:mysql', root]);
    await execa('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=mysql', '--skip-test-db', '--auth-root-authentication-method=socket'], { stdin: 'ignore' });
    const uid = Number((await execa('id', ['-u', 'mysql'])).stdout);
    const gid = Number((await execa('id', ['-g', 'mysql'])).stdout);
    let port = 0;
    for (let attempt = 0; attempt < 3 && !server; attempt++) {
      port = await getPort({ host: '127.0.0.1' });
      const child = execa(
        'mariadbd',
        ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', '--skip-name-resolve',
          `--pid-file=${path.join(root, 'mariadbd.pid')}`, '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=8M', '--max-connections=50'],
        { uid, gid, stdin: 'ignore', reject: false, all: true, cwd: root, env: { LANG: 'C.UTF-8' } },
      );
      running.add(child);
      hookExit();
      server = child;
      if (!(await ready(child, socket))) {
        await halt();
        const log = String((await child).all ?? '');
        if (!/in use|bind/i.test(log) || attempt === 2) throw new Error(`MariaDB did not start: ${log}`);
      }
    }
    if (!server) throw new Error('MariaDB did not start');
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
  } catch (error) {
    await stop();
    throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** mariadb-admin ping until it answers or the server exits. */
async function ready(child: ResultPromise, socket: string): Promise<boolean> {
  let exited = false;
  void child.then(() => (exited = true), () => (exited = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    const probe = await execa('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '-u', 'root', 'ping'], { reject: false, stdin: 'ignore' });
    if (probe.exitCode === 0) return true;
    await sleep(200);
  }
  return false;
}

/** Servers still running when the test process exits are killed (an 'exit' handler cannot wait). */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const root of roots) fs.removeSync(root);
  });
}
