import { describe, expect, it } from 'vitest';
import { databaseUrlWithoutPassword } from '../../src/ci/standIn.js';
import { parseConnectionUri, parseDatabaseUrl } from '../../src/inspect/databaseUrl.js';

describe('the stand-in database line', () => {
  for (const url of [
    'postgres://trac%20user:s3cr%40t@db.example.com:5433/trac_db?schema=tracschema',
    'postgres://tracuser:pw@/trac?host=/var/run/postgresql',
    'postgres://u:p@db/trac?host=/run/pg&schema=a%26b',
    'mysql://trac:secret@127.0.0.1:3306/trac',
    'mysql://x%40corp:pw@dbhost/tracdb',
    'postgres://db.example.com/trac',
  ]) {
    it(`keeps every fact of ${url.replace(/:[^:@/]*@/, ':***@')} and drops the password`, () => {
      const standIn = databaseUrlWithoutPassword(parseDatabaseUrl(url));
      const { info, password } = parseConnectionUri(standIn);
      expect(password).toBeNull();
      expect(standIn).not.toMatch(/secret|s3cr|:pw@|:p@/);
      expect({ ...info, hasPassword: undefined }).toEqual({ ...parseDatabaseUrl(url), hasPassword: undefined });
    });
  }
});
