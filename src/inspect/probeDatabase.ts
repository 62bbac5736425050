import { execa } from 'execa';
import { iniGet } from './configParser.js';
import { DatabaseUrlError, parseConnectionUri, type DatabaseInfo } from './databaseUrl.js';
import { reasonOf } from '../errors.js';
import { readTracIni } from './tracIni.js';
import type { DatabaseServer, EnvironmentInfo, Inspection, Problem } from './types.js';

/** How the probe runs a client program; unit tests pass a fake. */
export type ClientRunner = (
  file: string,
  args: string[],
  env: Record<string, string>,
) => Promise<{ exitCode: number | null; stdout: string; stderr: string; notFound: boolean }>;

export const execaRunner: ClientRunner = async (file, args, env) => {
  // Only what the environment says: no PG*/MYSQL_* settings of the caller's shell.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PG|MYSQL_)/.test(k)));
  const result = await execa(file, args, { env: { ...base, ...env }, extendEnv: false, reject: false, stdin: 'ignore', timeout: 20_000 });
  const notFound = (result as { code?: string }).code === 'ENOENT';
  return { exitCode: result.exitCode ?? null, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? result.message ?? ''), notFound };
};

type Answer = { ok: true; maxConnections: number; connectionsInUse: number | null } | { ok: false; reason: string };

/**
 * --probe-db: ask every PostgreSQL/MySQL server for max_connections, connecting as its first
 * environment whose credentials work (psql / mysql client, the password only in the child's
 * environment). Failures become problems; nothing here throws for a server that says no.
 */
export async function probeDatabaseServers(
  inspection: Pick<Inspection, 'environments' | 'databaseServers'>,
  run: ClientRunner = execaRunner,
): Promise<{ servers: DatabaseServer[]; problems: Problem[] }> {
  const problems: Problem[] = [];
  const servers: DatabaseServer[] = [];
  for (const server of inspection.databaseServers) {
    const failures: string[] = [];
    let probed: DatabaseServer['probe'] = null;
    for (const name of server.environments) {
      const env = inspection.environments.find((e) => e.name === name);
      if (!env) continue;
      const answer = await probeAs(env, run);
      if (answer.ok) {
        probed = { maxConnections: answer.maxConnections, connectionsInUse: answer.connectionsInUse, asEnvironment: env.name };
        break;
      }
      failures.push(`as ${env.name}: ${answer.reason}`);
    }
    if (!probed) {
      problems.push({
        code: 'database-probe-failed',
        severity: 'warning',
        message: `could not read max_connections from ${server.key} (${failures.join('; ') || 'no environment to connect as'})`,
      });
    } else if (server.estimatedConnections.pooled > probed.maxConnections) {
      const { pooled, processes, threads } = server.estimatedConnections;
      problems.push({
        code: 'database-connections-exceeded',
        severity: 'warning',
        message: `${server.key}: with pooling ${processes} processes x ${threads} threads could keep ${pooled} connections open, but max_connections is ${probed.maxConnections}; generate with --pool auto or --pool disable`,
      });
    }
    servers.push({ ...server, probe: probed });
  }
  return { servers, problems };
}

async function probeAs(env: EnvironmentInfo, run: ClientRunner): Promise<Answer> {
  let db: DatabaseInfo;
  let password: string | null;
  try {
    const ini = readTracIni(env.path);
    ({ info: db, password } = parseConnectionUri(iniGet(ini.sections, 'trac', 'database') ?? ''));
  } catch (error) {
    return { ok: false, reason: error instanceof DatabaseUrlError ? error.message : reasonOf(error) };
  }
  let call: ClientCall | null;
  try {
    call = db.scheme === 'postgres' ? postgresCall(db, password) : db.scheme === 'mysql' ? mysqlCall(db, password) : null;
  } catch (error) {
    if (error instanceof UnsafeValue) return { ok: false, reason: error.message };
    throw error;
  }
  if (!call) return { ok: false, reason: `${db.scheme} is not probed` };
  let result: Awaited<ReturnType<ClientRunner>>;
  try {
    result = await run(call.file, call.args, call.env);
  } catch (error) {
    return { ok: false, reason: scrub(reasonOf(error), password) };
  }
  if (result.notFound) return { ok: false, reason: `${call.file} is not installed (${call.hint})` };
  if (result.exitCode !== 0) {
    const said = scrub(result.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit code ${result.exitCode}`, password);
    return { ok: false, reason: said.startsWith(`${call.file}:`) ? said : `${call.file}: ${said}` };
  }
  const [max, inUse] = result.stdout.trim().split(/[|\t]/).map((v) => Number.parseInt(v.trim(), 10));
  if (max === undefined || !Number.isInteger(max)) return { ok: false, reason: `${call.file} answered "${scrub(result.stdout.trim(), password)}"` };
  return { ok: true, maxConnections: max, connectionsInUse: inUse !== undefined && Number.isInteger(inUse) ? inUse : null };
}

/** Never let the password out, even if a client echoes it. */
function scrub(text: string, password: string | null): string {
  return password ? text.split(password).join('***') : text;
}

class UnsafeValue extends Error {}

/** A value passed to a client on its own: no control characters, nothing it would read as more. */
function plainValue(what: string, value: string, alsoRefused: RegExp): string {
  if (/[\0-\x1f\x7f]/.test(value) || alsoRefused.test(value)) throw new UnsafeValue(`the ${what} in trac.ini holds characters the client would read as more than a ${what}; not probed`);
  return value;
}

interface ClientCall {
  file: string;
  args: string[];
  env: Record<string, string>;
  hint: string;
}

/**
 * psql as Trac's backend connects: `?host=` wins, libpq's defaults otherwise; PG* variables carry
 * it all. Only the parsed host, port, user, database and password reach the client: no other
 * parameter of the string, and none of the caller's files (root's ~/.pgpass, service file,
 * client certificate) that a host named in trac.ini could otherwise be handed.
 */
export function postgresCall(db: DatabaseInfo, password: string | null): ClientCall {
  const env: Record<string, string> = {
    PGCONNECT_TIMEOUT: '5',
    PGAPPNAME: 'trac-deploy inspect --probe-db',
    PGPASSFILE: '/dev/null',
    PGSERVICEFILE: '/nonexistent/trac-deploy',
    PGSYSCONFDIR: '/nonexistent/trac-deploy',
    PGSSLCERT: '/nonexistent/trac-deploy.crt',
    PGSSLKEY: '/nonexistent/trac-deploy.key',
  };
  const host = db.params.host || db.host;
  if (host) env.PGHOST = host;
  if (db.port !== null) env.PGPORT = String(db.port);
  if (db.user) env.PGUSER = db.user;
  // A database name with "=" or a URI prefix is a whole connection string to libpq: refused.
  if (db.name) env.PGDATABASE = plainValue('database name', db.name, /=|^postgres(ql)?:/);
  if (password) env.PGPASSWORD = password;
  const sql = "SELECT current_setting('max_connections'), (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')";
  return { file: 'psql', args: ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], env, hint: 'apt-get install postgresql-client' };
}

/**
 * The mysql client as PyMySQL connects: TCP to host:port (localhost:3306) unless ?unix_socket=;
 * MYSQL_PWD carries the password. Never an option file: not ?read_default_file= (it would send
 * whatever option file trac.ini names, root's included, to the host it names), not ~/.my.cnf.
 */
export function mysqlCall(db: DatabaseInfo, password: string | null): ClientCall {
  const args: string[] = ['--no-defaults'];
  if (db.params.unix_socket) args.push('--protocol=SOCKET', `--socket=${db.params.unix_socket}`);
  else args.push('--protocol=TCP', `--host=${db.host ?? 'localhost'}`, `--port=${db.port ?? 3306}`);
  if (db.user) args.push(`--user=${plainValue('user', db.user, /^$/)}`);
  if (db.name) args.push(`--database=${plainValue('database name', db.name, /^$/)}`);
  args.push('--connect-timeout=5', '--batch', '--skip-column-names', '--execute',
    "SELECT @@max_connections, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED')");
  const env: Record<string, string> = {};
  if (password) env.MYSQL_PWD = password;
  return { file: 'mysql', args, env, hint: 'apt-get install mariadb-client' };
}
