/**
 * Trac's `[trac] database` connection strings, parsed as trac/db/api.py parse_connection_uri
 * does. The password is dropped here, at the boundary: nothing after this function can print it.
 */
export type DatabaseScheme = 'sqlite' | 'postgres' | 'mysql' | string;

export interface DatabaseInfo {
  scheme: DatabaseScheme;
  host: string | null;
  port: number | null;
  /** Database name (postgres/mysql) or file path (sqlite, as written, maybe relative). */
  name: string | null;
  user: string | null;
  /** Whether the string carried a password (never the password itself). */
  hasPassword: boolean;
  /** Query parameters (host= socket dir, schema=, ...), decoded. */
  params: Record<string, string>;
}

export class DatabaseUrlError extends Error {
  constructor(reason: string) {
    super(`invalid [trac] database string: ${reason}`);
    this.name = 'DatabaseUrlError';
  }
}

export function parseDatabaseUrl(dbStr: string): DatabaseInfo {
  const trimmed = dbStr.trim();
  if (trimmed === '') throw new DatabaseUrlError('it is empty');
  const colon = trimmed.indexOf(':');
  if (colon < 0) throw new DatabaseUrlError('no "scheme:" prefix');
  const scheme = trimmed.slice(0, colon);
  let rest = trimmed.slice(colon + 1);
  let host: string | null = null;
  let path: string | null = null;

  if (!rest.startsWith('/')) {
    if (scheme !== 'sqlite' || rest === '') throw new DatabaseUrlError(`"${scheme}:" must be followed by "/"`);
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
  let hasPassword = false;
  if (host && host.includes('@')) {
    const at = host.indexOf('@');
    let userPart = host.slice(0, at);
    host = host.slice(at + 1);
    const userColon = userPart.indexOf(':');
    if (userColon >= 0) {
      hasPassword = userPart.length > userColon + 1;
      userPart = userPart.slice(0, userColon);
    }
    user = userPart ? decode(userPart) : null;
  }

  let port: number | null = null;
  if (host && host.includes(':')) {
    const hostColon = host.indexOf(':');
    const portText = host.slice(hostColon + 1);
    host = host.slice(0, hostColon);
    if (!/^\s*[+-]?\d+\s*$/.test(portText)) throw new DatabaseUrlError(`port "${portText}" is not a number`);
    port = Number.parseInt(portText, 10);
  }

  if (!path) path = '/' + rest;
  const params: Record<string, string> = {};
  const question = path.indexOf('?');
  if (question >= 0) {
    const query = path.slice(question + 1);
    path = path.slice(0, question);
    for (const param of query.split('&')) {
      const eq = param.indexOf('=');
      if (eq < 0) throw new DatabaseUrlError(`query parameter "${param}" has no "="`);
      const key = param.slice(0, eq);
      if (/pass/i.test(key)) hasPassword = true;
      else params[key] = decode(param.slice(eq + 1));
    }
  }
  // Trac keeps only truthy values; a postgres URL keeps the leading "/" of its database name.
  const name = scheme === 'sqlite' ? path : path.replace(/^\//, '');
  return {
    scheme,
    host: host || null,
    port,
    name: name || null,
    user,
    hasPassword,
    params,
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
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

/** The key that says which server a database lives on, for grouping environments. */
export function databaseServerKey(db: DatabaseInfo): string | null {
  if (db.scheme === 'sqlite') return null;
  const host = db.host ?? db.params.host ?? 'localhost';
  return `${db.scheme}://${host}${db.port !== null ? ':' + db.port : ''}`;
}
