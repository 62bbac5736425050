import { describe, expect, it } from 'vitest';
import { invalidCommandHint } from '../../src/apache/moduleHint.js';
import { deepestFirst, shadowedMounts } from '../../src/plan/mounts.js';
import { runPreflight, type PreflightRunner } from '../../src/python/preflight.js';

const request = { environments: ['/srv/a', '/srv/b'], pythonHome: null, siteDirs: [], eggCache: '/srv/.egg-cache', asUser: null, svnBindings: null };
const line = (o: object) => JSON.stringify(o);
const python = { kind: 'python', python: { executable: '/usr/bin/python3', version: '3.11.2' }, user: 'www-data', trac: '1.6', error: null, svn: { inInterpreter: true, systemDir: null } };
const env = (p: string) => ({ kind: 'environment', path: p, opened: true, problems: [], repositories: [], plugins: [], attachment: null, project: 'A', xsendfile: null, filesDir: null });

describe('runPreflight', () => {
  it('sends the environments on stdin, never on the command line, and reads JSON lines', async () => {
    let seen: { args: string[]; stdin: string } | null = null;
    const run: PreflightRunner = async (_command, args, stdin) => {
      seen = { args, stdin };
      return { stdout: [line(python), 'a plugin printed this', line(env('/srv/a')), line(env('/srv/b')), line({ kind: 'done' })].join('\n'), stderr: '', exitCode: 0 };
    };
    const result = await runPreflight(request, run);
    expect(result.status).toBe('ran');
    expect(seen!.args.join(' ')).not.toContain('/srv/a');
    expect(JSON.parse(seen!.stdin).environments).toEqual(['/srv/a', '/srv/b']);
    if (result.status === 'ran') expect(result.environments.map((e) => e.path)).toEqual(['/srv/a', '/srv/b']);
  });

  it('says skipped, with the reason, when the interpreter has no Trac', async () => {
    const run: PreflightRunner = async () => ({ stdout: line({ ...python, trac: null, error: "ModuleNotFoundError: No module named 'trac'" }) + '\n' + line({ kind: 'done' }), stderr: '', exitCode: 0 });
    const result = await runPreflight(request, run);
    expect(result).toMatchObject({ status: 'skipped', reason: expect.stringContaining("cannot import Trac: ModuleNotFoundError: No module named 'trac'") });
  });

  it('names the environment Python died on', async () => {
    const run: PreflightRunner = async () => ({ stdout: [line(python), line(env('/srv/a'))].join('\n'), stderr: 'Segmentation fault', exitCode: -11 });
    const result = await runPreflight(request, run);
    if (result.status !== 'ran') throw new Error('expected ran');
    expect(result.environments[1]?.problems[0]).toMatchObject({ code: 'preflight-crashed', message: expect.stringContaining('/srv/b: Python stopped') });
  });

  it('says skipped when the program cannot start', async () => {
    const run: PreflightRunner = async () => ({ stdout: '', stderr: '', exitCode: null, error: 'no such program' });
    expect(await runPreflight(request, run)).toMatchObject({ status: 'skipped', reason: expect.stringContaining('no such program') });
  });
});

describe('mount points', () => {
  it('finds a mount hidden by one read before it', () => {
    const mounts = [{ name: 'a', urlPrefix: '/' }, { name: 'b', urlPrefix: '/git' }, { name: 'c', urlPrefix: '/gitlab' }];
    expect(shadowedMounts(mounts).map((s) => [s.hidden.name, s.by.name])).toEqual([['b', 'a'], ['c', 'a']]);
    expect(shadowedMounts(deepestFirst(mounts))).toEqual([]);
    expect(shadowedMounts([{ name: 'b', urlPrefix: '/git' }, { name: 'c', urlPrefix: '/gitlab' }])).toEqual([]);
  });
});

describe('invalidCommandHint', () => {
  it('names the module and a2enmod', () => {
    expect(invalidCommandHint("AH00526: Syntax error on line 3 of /x.conf:\nInvalid command 'XSendFile', perhaps misspelled", 'debian')).toBe(
      'XSendFile needs mod_xsendfile, which is not enabled: a2enmod xsendfile (apt-get install libapache2-mod-xsendfile)',
    );
    expect(invalidCommandHint("Invalid command 'WSGIDaemonProcess'", 'rhel')).toContain('mod_wsgi');
    expect(invalidCommandHint('Syntax OK', 'debian')).toBeNull();
  });
});
