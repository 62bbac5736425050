import fc from 'fast-check';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleAuth, samplePlan } from '../helpers/samplePlan.js';
import {
  accessNeeds,
  compareVersions,
  parseIncludes,
  parseMpm,
  pythonFindings,
  pythonFromBinary,
  venvPythonVersion,
  versionFindings,
  wsgiVersionFromBinary,
} from '../../src/apply/checks.js';
import { unquoteApache } from '../../src/apache/readConf.js';
import { takeLock } from '../../src/apply/lock.js';
import { putState, readState } from '../../src/apply/pathState.js';
import { parseRunConfig } from '../../src/apply/target.js';
import { apacheArg } from '../../src/escape/apache.js';
import { tempDir } from '../helpers/tempDir.js';

const so = (...parts: string[]) => Buffer.from(['\x7fELF', ...parts, ''].join('\0'), 'latin1');

describe('reading mod_wsgi and Python versions from the module file', () => {
  it('takes the version string stored before the banner format', () => {
    expect(wsgiVersionFromBinary(so('libpython3.11.so.1.0', '3.11.1', 'wsgi_init', '4.9.4', 'mod_wsgi/%s', 'Python/%d.%d'))).toBe('4.9.4');
    expect(wsgiVersionFromBinary(so('mod_wsgi/2.3 Python/2.5'))).toBe('2.3');
    expect(wsgiVersionFromBinary(so('nothing', 'here'))).toBeNull();
    expect(wsgiVersionFromBinary(so('not-a-version', 'mod_wsgi/%s'))).toBeNull();
  });
  it('reads the linked libpython', () => {
    expect(pythonFromBinary(so('libpython3.11.so.1.0'))).toBe('3.11');
    expect(pythonFromBinary(so('libpython2.7.so.1.0'))).toBe('2.7');
    expect(pythonFromBinary(so('libc.so.6'))).toBeNull();
  });
  it('reads pyvenv.cfg', () => {
    expect(venvPythonVersion('home = /usr/bin\nversion = 3.11.2\n')).toBe('3.11');
    expect(venvPythonVersion('version_info = 3.12.1.final.0\n')).toBe('3.12');
    expect(venvPythonVersion('home = /usr/bin\n')).toBeNull();
  });
});

describe('version rules from TracModWSGI', () => {
  it('warns for 2.0 to 2.3 only', () => {
    const codes = (v: string) => versionFindings({ wsgiVersion: v, mpm: 'event', mode: 'daemon' }).map((f) => f.code);
    expect(codes('1.3')).toEqual([]);
    expect(codes('2.0')).toEqual(['wsgi-file-wrapper']);
    expect(codes('2.3')).toEqual(['wsgi-file-wrapper']);
    expect(codes('2.4')).toEqual([]);
    expect(codes('4.9.4')).toEqual([]);
  });
  it('warns for embedded mode under the worker MPM below 3.4', () => {
    const codes = (v: string, mpm: string, mode: 'daemon' | 'embedded') => versionFindings({ wsgiVersion: v, mpm, mode }).map((f) => f.code);
    expect(codes('3.3', 'worker', 'embedded')).toEqual(['wsgi-worker-embedded']);
    expect(codes('3.3', 'worker', 'daemon')).toEqual([]);
    expect(codes('3.3', 'prefork', 'embedded')).toEqual([]);
    expect(codes('3.4', 'worker', 'embedded')).toEqual([]);
  });
  it('compares versions numerically', () => {
    expect(compareVersions('4.10', '4.9.4')).toBeGreaterThan(0);
    expect(compareVersions('3.4', '3.4.0')).toBe(0);
  });
  it('refuses a virtualenv made with another Python than the embedded one', () => {
    expect(pythonFindings('3.11', '3.11', '/v')).toEqual([]);
    expect(pythonFindings('3.11', '3.12', '/v')[0]?.code).toBe('python-mismatch');
    expect(pythonFindings('3.11', null, '/v')[0]?.code).toBe('venv-not-found');
    expect(pythonFindings('3.11', null, null)).toEqual([]);
  });
});

describe('parsing apache2ctl output', () => {
  it('DUMP_RUN_CFG', () => {
    const out = 'ServerRoot: "/etc/apache2"\nPidFile: "/var/run/apache2/apache2.pid"\nUser: name="www-data" id=33\nGroup: name="www-data" id=33\n';
    expect(parseRunConfig(out)).toEqual({ user: 'www-data', group: 'www-data', pidFile: '/var/run/apache2/apache2.pid', serverRoot: '/etc/apache2' });
  });
  it('-V and DUMP_INCLUDES', () => {
    expect(parseMpm('Server version: Apache/2.4.62\nServer MPM:     event\n')).toBe('event');
    expect(parseIncludes('Included configuration files:\n  (*) /etc/apache2/apache2.conf\n    (146) /etc/apache2/mods-enabled/wsgi.load\n')).toEqual([
      '/etc/apache2/apache2.conf',
      '/etc/apache2/mods-enabled/wsgi.load',
    ]);
  });
});

describe('what the Apache user must reach', () => {
  it('lists script, login files, venv, config, log, database and its directory, egg cache', () => {
    const needs = accessNeeds(
      { scripts: ['/d/t.wsgi'], pythonHome: '/venv', eggCache: '/e/cache', parentDir: null, plans: [samplePlan({ auth: sampleAuth({ method: 'basic', userFile: '/etc/apache2/users', groupFile: '/etc/apache2/groups' }) })] },
      [{ path: '/env', sqlite: '/env/db/trac.db', hasLog: true }],
      '/e',
    );
    expect(needs.map((n) => `${n.test} ${n.path}`)).toEqual([
      '-r /d/t.wsgi',
      '-r /etc/apache2/users',
      '-r /etc/apache2/groups',
      '-r /venv/pyvenv.cfg',
      '-r /env/conf/trac.ini',
      '-w /env/log',
      '-w /env/db/trac.db',
      '-w /env/db',
      '-w /e',
    ]);
  });
});

describe('reading back what generate wrote', () => {
  it('unquoteApache inverts apacheArg for any value it accepts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), (s) => {
        let quoted: string;
        try {
          quoted = apacheArg(s);
        } catch {
          return true;
        }
        return unquoteApache(quoted.slice(1, -1)) === s;
      }),
      { numRuns: 500 },
    );
  });
});

describe('lock and path states', () => {
  it('a held lock refuses a second run; a lock left by a killed run is simply taken', async () => {
    const dir = await tempDir();
    const lock = await takeLock(dir);
    expect(await fs.readFile(lock.file, 'utf8')).toBe(`${process.pid}\n`);
    await expect(takeLock(dir)).rejects.toThrow(new RegExp(`another trac-deploy apply \\(pid ${process.pid}\\)`));
    await lock.release();
    // a run killed while holding it leaves its pid in the file, but no flock: nothing to take over
    await fs.writeFile(lock.file, '999999999\n');
    const taken = await takeLock(dir);
    expect(taken.staleFrom).toBe(999999999);
    await taken.release();
    expect(await fs.readFile(lock.file, 'utf8')).toBe('');
    await fs.rm(lock.file);
    await fs.symlink('/etc/passwd', lock.file);
    await expect(takeLock(dir)).rejects.toThrow(/is not a regular file/);
  });

  it('putState replaces a planted symlink instead of writing through it', async () => {
    const dir = await tempDir();
    const victim = path.join(dir, 'victim');
    await fs.writeFile(victim, 'precious');
    const file = path.join(dir, 'site.conf');
    await fs.symlink(victim, file);
    await putState(file, { type: 'file', content: Buffer.from('new'), mode: 0o644 });
    expect(await fs.readFile(victim, 'utf8')).toBe('precious');
    expect(await readState(file)).toMatchObject({ type: 'file', content: Buffer.from('new'), mode: 0o644 });
    await putState(file, { type: 'symlink', target: 'victim' });
    expect(await readState(file)).toEqual({ type: 'symlink', target: 'victim' });
    await putState(file, { type: 'absent' });
    expect(await readState(file)).toEqual({ type: 'absent' });
    await fs.mkdir(file);
    await expect(readState(file)).rejects.toThrow(/neither a file nor a symbolic link/);
  });
});
