import { describe, expect, test } from 'vitest';
import {
  databaseServer,
  databaseServerKey,
  DatabaseUrlError,
  describeDatabase,
  parseConnectionUri,
  parseDatabaseUrl,
  pyUnquote,
} from '../../src/inspect/databaseUrl.js';

const base = { host: null, port: null, name: null, user: null, hasPassword: false, params: {} };

describe('parseDatabaseUrl: every form Trac accepts', () => {
  test.each([
    ['sqlite:db/trac.db', { scheme: 'sqlite', name: 'db/trac.db' }],
    ['sqlite::memory:', { scheme: 'sqlite', name: ':memory:' }],
    ['sqlite:/srv/trac/db/trac.db', { scheme: 'sqlite', name: '/srv/trac/db/trac.db' }],
    ['sqlite:///srv/trac.db', { scheme: 'sqlite', name: '/srv/trac.db' }],
    ['postgres://trac:secret@db.example.com/trac', { scheme: 'postgres', host: 'db.example.com', name: 'trac', user: 'trac', hasPassword: true }],
    ['postgres://trac:secret@db.example.com:5433/trac', { scheme: 'postgres', host: 'db.example.com', port: 5433, name: 'trac', user: 'trac', hasPassword: true }],
    ['postgres://trac@localhost/trac', { scheme: 'postgres', host: 'localhost', name: 'trac', user: 'trac' }],
    // Unix socket directory through ?host=, no host in the URL.
    ['postgres://trac:pw@/trac?host=/var/run/postgresql', { scheme: 'postgres', name: 'trac', user: 'trac', hasPassword: true, params: { host: '/var/run/postgresql' } }],
    ['postgres://trac:pw@/trac?host=%2Ftmp%2Fpg%20sock', { scheme: 'postgres', name: 'trac', user: 'trac', hasPassword: true, params: { host: '/tmp/pg sock' } }],
    ['postgres://trac:pw@db:5432/trac?schema=tracschema', { scheme: 'postgres', host: 'db', port: 5432, name: 'trac', user: 'trac', hasPassword: true, params: { schema: 'tracschema' } }],
    ['postgres://trac@db/trac?schema=s&host=/sock', { scheme: 'postgres', host: 'db', name: 'trac', user: 'trac', params: { schema: 's', host: '/sock' } }],
    // URL-encoded credentials: "@", ":", "/", "%" and spaces in the user and password.
    ['postgres://trac%20user:s3cr%40t@db.example.com:5433/trac_db?schema=tracschema', { scheme: 'postgres', host: 'db.example.com', port: 5433, name: 'trac_db', user: 'trac user', hasPassword: true, params: { schema: 'tracschema' } }],
    ['postgres://us%3Aer:p%3A%2F%40%25@h/d', { scheme: 'postgres', host: 'h', name: 'd', user: 'us:er', hasPassword: true }],
    ['mysql://trac:pa%3Ass@localhost:3306/trac16', { scheme: 'mysql', host: 'localhost', port: 3306, name: 'trac16', user: 'trac', hasPassword: true }],
    ['mysql://trac:pw@localhost/trac?unix_socket=/run/mysqld/mysqld.sock&charset=utf8mb4', { scheme: 'mysql', host: 'localhost', name: 'trac', user: 'trac', hasPassword: true, params: { unix_socket: '/run/mysqld/mysqld.sock', charset: 'utf8mb4' } }],
    ['mysql://trac@db/trac?read_default_file=/etc/trac/my.cnf&read_default_group=trac', { scheme: 'mysql', host: 'db', name: 'trac', user: 'trac', params: { read_default_file: '/etc/trac/my.cnf', read_default_group: 'trac' } }],
    // No credentials, no host, no database: Trac drops the empty parts.
    ['postgres:///trac', { scheme: 'postgres', name: 'trac' }],
    ['postgres://db.example.com', { scheme: 'postgres', host: 'db.example.com' }],
    ['postgres://:5433/trac', { scheme: 'postgres', port: 5433, name: 'trac' }],
    ['postgres://trac:@h/d', { scheme: 'postgres', host: 'h', name: 'd', user: 'trac' }],
    ['postgres://:pw@h/d', { scheme: 'postgres', host: 'h', name: 'd', hasPassword: true }],
    // Python's int(): blanks, a sign and underscores are numbers; port 0 is dropped as falsy.
    ['postgres://h:+5_432/d', { scheme: 'postgres', host: 'h', port: 5432, name: 'd' }],
    ['postgres://h:0/d', { scheme: 'postgres', host: 'h', name: 'd' }],
    // Values are decoded, names are not; "+" stays "+" (Python's unquote).
    ['postgres://h/d?schema=a+b%2Bc', { scheme: 'postgres', host: 'h', name: 'd', params: { schema: 'a+b+c' } }],
    // ConfigParser strips the value before Trac sees it.
    ['  postgres://h/d  ', { scheme: 'postgres', host: 'h', name: 'd' }],
  ])('%s', (input, expected) => {
    expect(parseDatabaseUrl(input)).toEqual({ ...base, ...expected });
  });

  test('the password is dropped at the boundary: not in the result, not in its description', () => {
    const secret = 's3cr%40t';
    const info = parseDatabaseUrl(`postgres://trac:${secret}@db/trac?password=other&sslpassword=x`);
    const printed = JSON.stringify(info) + describeDatabase(info);
    expect(printed).not.toContain('s3cr');
    expect(printed).not.toContain('other');
    expect(info.params).toEqual({});
    expect(describeDatabase(info)).toBe('postgres://trac:***@db/trac');
  });

  test('parseConnectionUri gives the decoded password, for the probe only', () => {
    expect(parseConnectionUri('postgres://trac:s3cr%40t%3A%2F@db/trac').password).toBe('s3cr@t:/');
    expect(parseConnectionUri('postgres://trac@db/trac').password).toBeNull();
    expect(parseConnectionUri('postgres://trac:@db/trac').password).toBeNull();
  });
});

describe('parseDatabaseUrl: malformed strings are errors that say why', () => {
  test.each([
    ['', /it is empty/],
    ['   ', /it is empty/],
    ['db/trac.db', /no "scheme:" prefix/],
    ['postgres:', /must be followed by/],
    ['postgres:trac', /must be followed by/],
    ['sqlite:', /must be followed by/],
    ['postgres://trac@db:port/trac', /port "port" is not a number/],
    ['postgres://trac@db:/trac', /port "" is not a number/],
    ['postgres://trac@db:54 32/trac', /port "54 32" is not a number/],
    ['postgres://db:5432?schema=x', /port "5432\?schema=x" is not a number/],
    ['postgres://trac@db:70000/trac', /port 70000 is out of range/],
    ['postgres://trac@db:-1/trac', /port -1 is out of range/],
    ['postgres://trac@[::1]:5432/trac', /IPv6/],
    ['postgres://db/trac?schema', /query parameter "schema" has no "="/],
    ['postgres://db/trac?', /query parameter "" has no "="/],
    ['postgres://db/trac?schema=a&', /query parameter "" has no "="/],
  ])('%j', (input, message) => {
    expect(() => parseDatabaseUrl(input)).toThrow(DatabaseUrlError);
    expect(() => parseDatabaseUrl(input)).toThrow(message);
  });

  test('the error names the option', () => {
    expect(() => parseDatabaseUrl('nonsense')).toThrow(/^invalid \[trac\] database string: /);
  });
});

describe('pyUnquote is Python urllib.parse.unquote', () => {
  test.each([
    ['plain', 'plain'],
    ['a%20b', 'a b'],
    ['%E2%82%AC', '€'],
    ['a+b', 'a+b'],
    ['100%', '100%'],
    ['%zz%41', '%zzA'],
    ['%4', '%4'],
    ['%ff', '\uFFFD'],
  ])('%s -> %s', (input, output) => {
    expect(pyUnquote(input)).toBe(output);
  });
});

describe('databaseServer: where the backend really connects', () => {
  test.each([
    ['postgres://u:p@db.example.com/trac', 'postgres://db.example.com:5432', { host: 'db.example.com', port: 5432, socket: false }],
    ['postgres://u:p@db.example.com:5432/other', 'postgres://db.example.com:5432', { port: 5432 }],
    ['postgres://u@127.0.0.1:5433/trac', 'postgres://127.0.0.1:5433', { port: 5433 }],
    // ?host= wins over the URL's host (trac/db/postgres_backend.py).
    ['postgres://u@ignored/trac?host=/run/pg', 'postgres:///run/pg:5432', { host: '/run/pg', socket: true }],
    ['postgres://u@/trac?host=/var/run/postgresql', 'postgres:///var/run/postgresql:5432', { socket: true }],
    // No host at all: libpq's default socket directory.
    ['postgres:///trac', 'postgres:///var/run/postgresql:5432', { host: '/var/run/postgresql', socket: true }],
    ['postgres://:5433/trac', 'postgres:///var/run/postgresql:5433', { port: 5433 }],
    ['mysql://u:p@db/trac', 'mysql://db:3306', { host: 'db', port: 3306, socket: false }],
    ['mysql://u:p@/trac', 'mysql://localhost:3306', { host: 'localhost' }],
    ['mysql://u@db:3307/trac?unix_socket=/run/mysqld/mysqld.sock', 'mysql:///run/mysqld/mysqld.sock', { host: '/run/mysqld/mysqld.sock', port: null, socket: true }],
  ])('%s is on %s', (input, key, fields) => {
    const server = databaseServer(parseDatabaseUrl(input));
    expect(server).toMatchObject({ key, ...fields });
    expect(databaseServerKey(parseDatabaseUrl(input))).toBe(key);
  });

  test('SQLite and unknown schemes are on no server', () => {
    expect(databaseServer(parseDatabaseUrl('sqlite:db/trac.db'))).toBeNull();
    expect(databaseServer(parseDatabaseUrl('postgresql://db/trac'))).toBeNull();
  });
});

describe('malformed strings with a password: no message quotes any part of it', () => {
  const PW = 'Zq7pw';
  test.each([
    [`postgres://alice:${PW}/x@db/trac`, /credentials|port/],
    [`postgres://alice:x/${PW}@db/trac`, /credentials|port/],
    [`postgres://alice:${PW}@x@db/trac`, /credentials/],
    [`postgres://alice:x@${PW}@db/trac`, /credentials/],
    [`postgres:/alice:${PW}@db/trac`, /credentials/],
    [`mysql://alice:${PW}/@db/trac`, /credentials|port/],
    [`postgres://alice:${PW}@db/trac?${PW}`, /query parameter has no/],
    [`postgres://alice:12/${PW}@db/trac`, /credentials/],
  ])('%s', (text, reason) => {
    let message = '';
    try {
      parseDatabaseUrl(text);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(reason);
    for (let i = 0; i + 3 <= PW.length; i++) expect(message, message).not.toContain(PW.slice(i, i + 3));
  });
});

