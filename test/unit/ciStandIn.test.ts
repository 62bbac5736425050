import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseUrlWithoutPassword } from '../../src/ci/standIn.js';
import { standInAuthFiles } from '../../src/ci/workflow.js';
import { tempDir } from '../helpers/tempDir.js';
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

describe('stand-in login files', () => {
  it('made only where missing, a digest file with its realm and no secret', async () => {
    const dir = await tempDir();
    const digest = path.join(dir, 'a b', 'users.htdigest');
    const keytab = path.join(dir, 'http.keytab');
    await fs.writeFile(keytab, 'the real one');
    const lines = standInAuthFiles({ auth: 'digest', authRealm: "Team's Realm", authUserFile: digest, authKeytab: keytab });
    expect(lines).toHaveLength(2);
    for (const [cmd, ...argv] of lines) await execa(cmd ?? 'false', argv);
    expect(await fs.readFile(digest, 'utf8')).toBe("ci-stand-in:Team's Realm:0");
    expect(await fs.readFile(keytab, 'utf8')).toBe('the real one');
    expect(standInAuthFiles({ auth: 'none' })).toEqual([]);
  });
});
