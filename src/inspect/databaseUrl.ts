/**
 * Trac's `[trac] database` connection strings, parsed as trac/db/api.py parse_connection_uri
 * does (Trac 1.6). The password is dropped here, at the boundary: parseDatabaseUrl's result
 * cannot print it. Only the database probe asks for it (parseConnectionUri) and hands it to a
 * child process's environment.
 */
export type DatabaseScheme = 'sqlite' | 'postgres' | 'mysql' | string;

/** The schemes Trac 1.6 itself supports; plugins may add others. */
export const SUPPORTED_SCHEMES = ['sqlite', 'postgres', 'mysql'] as const;

export interface DatabaseInfo {
  scheme: DatabaseScheme;
  host: string | null;
  port: number | null;
  /** Database name (postgres/mysql) or file path (sqlite, as written, maybe relative). */
  name: string | null;
  user: string | null;
  /** Whether the string carried a password (never the password itself). */
  hasPassword: boolean;
  /** Query parameters (host= socket dir, schema=, ...), values decoded; password-like ones left out. */
  params: Record<string, string>;
}

export class DatabaseUrlError extends Error {
  constructor(reason: string) {
    super(`invalid [trac] database string: ${reason}`);
    this.name = 'DatabaseUrlError';
  }
}

/** The parsed string without its password: what inspect stores and reports. */
export function parseDatabaseUrl(dbStr: string): DatabaseInfo {
  return parseConnectionUri(dbStr).info;
}

/**
 * The parsed string and its password. Only for connecting (the --probe-db check); never store
 * or print the password.
 */
export function parseConnectionUri(dbStr: string): { info: DatabaseInfo; password: string | null } {
  // ConfigParser strips values; Trac splits the rest as is.
  const trimmed = dbStr.trim();
  if (trimmed === '') throw new DatabaseUrlError('it is empty');
  const colon = trimmed.indexOf(':');
  if (colon < 0) throw new DatabaseUrlError('no "scheme:" prefix (e.g. "postgres://user:pass@host/db")');
  const scheme = trimmed.slice(0, colon);
  let rest = trimmed.slice(colon + 1);
  // A string with "user:...@" carries a password, which may sit anywhere once the string is
  // malformed (an unencoded "/" or "@" in it, a missing "/"): then no message quotes any of it.
  const firstAt = rest.indexOf('@');
  const secretive = firstAt >= 0 && rest.slice(0, firstAt).includes(':');
  const quoted = (text: string) => (secretive ? '' : ` "${text}"`);
  let host: string | null = null;
  let path: string | null = null;

  if (!rest.startsWith('/')) {
    // Relative and in-memory SQLite paths are the only strings without a slash.
    if (scheme !== 'sqlite' || rest === '') throw new DatabaseUrlError(`"${scheme}:" must be followed by "//"`);
    path = rest;
  } else if (!rest.startsWith('//')) {
    rest = rest.slice(1);
  } else if (rest.startsWith('///')) {
    rest = rest.slice(3);
  } else {
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    host = slash >= 0 ? rest.slice(0, slash) : rest;
    rest = slash >= 0 ? rest.slice(slash + 1) : '';
  }

  let user: string | null = null;
  let password: string | null = null;
  // The port is quoted in messages only when it stands after the credentials, where it is not a piece of them.
  const portAfterCredentials = Boolean(host?.includes('@'));
  if (host && host.includes('@')) {
    // The first "@" ends the credentials, the first ":" in them ends the user: a password with
    // "@" or "/" must be URL-encoded, as in Trac.
    const at = host.indexOf('@');
    let userPart = host.slice(0, at);
    host = host.slice(at + 1);
    const userColon = userPart.indexOf(':');
    if (userColon >= 0) {
      const passPart = userPart.slice(userColon + 1);
      password = passPart ? pyUnquote(passPart) : null;
      userPart = userPart.slice(0, userColon);
    }
    user = userPart ? pyUnquote(userPart) : null;
  }

  let port: number | null = null;
  if (host && host.includes(':')) {
    const hostColon = host.indexOf(':');
    const portText = host.slice(hostColon + 1);
    host = host.slice(0, hostColon);
    port = pyInt(portText);
    if (port === null && host.startsWith('[')) {
      throw new DatabaseUrlError('Trac cannot parse an IPv6 address in brackets; use a host name or an IPv4 address');
    }
    const safe = !secretive || portAfterCredentials;
    if (port === null) throw new DatabaseUrlError(`port${safe ? ` "${portText}"` : ''} is not a number${safe ? '' : CREDENTIALS_HINT}`);
    if (port < 0 || port > 65535) throw new DatabaseUrlError(`port${safe ? ` ${port}` : ''} is out of range (1-65535)${safe ? '' : CREDENTIALS_HINT}`);
    // Trac keeps only truthy values: port 0 means the default port.
    if (port === 0) port = null;
  }

  if (!path) path = '/' + rest;
  const params: Record<string, string> = {};
  const question = path.indexOf('?');
  if (question >= 0) {
    const query = path.slice(question + 1);
    path = path.slice(0, question);
    for (const param of query.split('&')) {
      const eq = param.indexOf('=');
      if (eq < 0) throw new DatabaseUrlError(`a query parameter${quoted(param)} has no "=" (write "name=value", joined by "&")`);
      const key = param.slice(0, eq);
      // Trac hands no password parameter to its backends; keep it out of every report anyway.
      if (!/pass/i.test(key)) params[key] = pyUnquote(param.slice(eq + 1));
    }
  }
  // The backends strip one leading "/" from the database name; SQLite keeps the path as written.
  const name = scheme === 'sqlite' ? path : path.replace(/^\//, '');
  // An "@" left in the host or the database name is a piece of the credentials in the wrong place
  // (`postgres://u:p@ss@h/db`, `postgres://u:pa/ss@h/db`, `postgres:/u:pass@h/db`): Trac would
  // connect elsewhere, and reporting the host or name would print part of the password.
  if (scheme !== 'sqlite' && (host?.includes('@') || name.includes('@'))) {
    throw new DatabaseUrlError(`the credentials are not where Trac reads them${CREDENTIALS_HINT}`);
  }
  return {
    info: {
      scheme,
      host: host || null,
      port,
      name: name || null,
      user,
      hasPassword: password !== null,
      params,
    },
    password,
  };
}

const CREDENTIALS_HINT = ' (write scheme://user:password@host/database, with "/", "@" and ":" in the password URL-encoded as %2F, %40, %3A; the string is not quoted here because it holds a password)';

/**
 * Python's urllib.parse.unquote: %XX runs become UTF-8 (invalid bytes as U+FFFD), malformed
 * escapes stay as written, "+" stays "+".
 */
export function pyUnquote(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** Python's int() on a string: surrounding blanks, a sign, digits with single underscores. */
function pyInt(text: string): number | null {
  const match = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(text);
  if (!match) return null;
  const value = Number.parseInt((match[2] ?? '').replace(/_/g, ''), 10);
  return match[1] === '-' ? -value : value;
}

/** A connection string for people to read: everything but the password. */
export function describeDatabase(db: DatabaseInfo): string {
  if (db.scheme === 'sqlite') return `sqlite:${db.name ?? ''}`;
  const auth = db.user ? `${db.user}${db.hasPassword ? ':***' : ''}@` : '';
  const port = db.port !== null ? `:${db.port}` : '';
  const query = Object.entries(db.params)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return `${db.scheme}://${auth}${db.host ?? ''}${port}/${db.name ?? ''}${query ? '?' + query : ''}`;
}

/** libpq's compiled-in socket directory on Debian (and RHEL): where a host-less string connects. */
export const POSTGRES_DEFAULT_SOCKET_DIR = '/var/run/postgresql';
export const DEFAULT_PORTS = { postgres: 5432, mysql: 3306 } as const;

/** Where a PostgreSQL or MySQL database really lives, as the backend would connect to it. */
export interface DatabaseServerAddress {
  /** `scheme://host:port`; a socket path stands in for the host (`postgres:///var/run/postgresql:5432`). */
  key: string;
  scheme: 'postgres' | 'mysql';
  /** Host name or address, or the Unix socket directory (postgres) / socket file (mysql). */
  host: string;
  /** The TCP port, or the number in the socket's name (postgres); null for a MySQL socket. */
  port: number | null;
  socket: boolean;
}

/**
 * The server a database lives on, with the backends' defaults filled in so that
 * `postgres://u@h/db` and `postgres://u@h:5432/db` are one server:
 * - postgres (trac/db/postgres_backend.py): `?host=` wins over the URL's host; no host means
 *   libpq's default socket directory; the port defaults to 5432.
 * - mysql (trac/db/mysql_backend.py, PyMySQL): `?unix_socket=` wins; no host means "localhost"
 *   over TCP (PyMySQL does not look for a socket); the port defaults to 3306.
 * null for SQLite and schemes Trac does not pool.
 */
export function databaseServer(db: DatabaseInfo): DatabaseServerAddress | null {
  if (db.scheme === 'postgres') {
    const host = db.params.host || db.host || POSTGRES_DEFAULT_SOCKET_DIR;
    const port = db.port ?? DEFAULT_PORTS.postgres;
    return { key: `postgres://${host}:${port}`, scheme: 'postgres', host, port, socket: host.startsWith('/') };
  }
  if (db.scheme === 'mysql') {
    const socketPath = db.params.unix_socket;
    if (socketPath) return { key: `mysql://${socketPath}`, scheme: 'mysql', host: socketPath, port: null, socket: true };
    const host = db.host ?? 'localhost';
    const port = db.port ?? DEFAULT_PORTS.mysql;
    return { key: `mysql://${host}:${port}`, scheme: 'mysql', host, port, socket: false };
  }
  return null;
}

/** The key that says which server a database lives on, for grouping environments. */
export function databaseServerKey(db: DatabaseInfo): string | null {
  return databaseServer(db)?.key ?? null;
}
