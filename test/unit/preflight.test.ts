import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { invalidCommandHint } from '../../src/apache/moduleHint.js';
import { deepestFirst, shadowedMounts } from '../../src/plan/mounts.js';
import { preflightWorkerCount, runPreflight, type PreflightRunner } from '../../src/python/preflight.js';
import { runPreflightWorkers } from '../../src/python/preflightWorkers.js';
import { askedPaths } from '../helpers/preflightInput.js';

const request = { environments: ['/srv/a', '/srv/b'], pythonHome: null, siteDirs: [], eggCache: '/srv/.egg-cache', asUser: null, svnBindings: null };
const line = (o: object) => JSON.stringify(o);
const python = { kind: 'python', python: { executable: '/usr/bin/python3', version: '3.11.2' }, user: 'www-data', trac: '1.6', error: null, svn: { inInterpreter: true, systemDir: null } };
const env = (p: string) => ({ kind: 'environment', path: p, opened: true, problems: [], repositories: [], plugins: [], attachment: null, project: 'A', xsendfile: null, filesDir: null });

/**
 * A stand-in for python/preflight.py: reads the first line (the request) and then one JSON path
 * a line, as they come, and answers each in turn; `behave` decides per path (answer, die, hang).
 */
function fakePython(behave: (path: string) => 'answer' | 'die' | 'hang' = () => 'answer', firstLine: object = python): { run: PreflightRunner; calls: { args: string[]; paths: string[] }[] } {
  const calls: { args: string[]; paths: string[] }[] = [];
  const run: PreflightRunner = async (_command, args, input, onLine, _env, signal) => {
    const call = { args, paths: [] as string[] };
    calls.push(call);
    onLine(line(firstLine));
    for await (const p of askedPaths(input)) {
      call.paths.push(p);
      const what = behave(p);
      if (what === 'die') return { exitCode: null, signal: 'SIGSEGV', stderr: 'Fatal Python error: Segmentation fault' };
      if (what === 'hang') {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        return { exitCode: null, signal: 'SIGKILL', stderr: '' };
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
      onLine('a plugin printed this');
      onLine(line(env(p)));
    }
    onLine(line({ kind: 'done' }));
    return { exitCode: 0, stderr: '' };
  };
  return { run, calls };
}

describe('runPreflight', () => {
  it('streams the environments on stdin, never on the command line, and answers in their order', async () => {
    const { run, calls } = fakePython();
    const result = await runPreflight(request, run);
    expect(result.status).toBe('ran');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.join(' ')).not.toContain('/srv/a');
    expect(calls[0]!.paths).toEqual(['/srv/a', '/srv/b']);
    if (result.status === 'ran') expect(result.environments.map((e) => e.path)).toEqual(['/srv/a', '/srv/b']);
  });

  it('asks Python to leave out the stamps of a kept verdict only when told (stamps: false)', async () => {
    const headers: unknown[] = [];
    const run: PreflightRunner = async (_command, _args, input, onLine) => {
      let text = '';
      for await (const chunk of input) text += chunk;
      const [header, ...paths] = text.trim().split('\n');
      headers.push(JSON.parse(header!));
      onLine(line(python));
      for (const p of paths) onLine(line(env(JSON.parse(p) as string)));
      onLine(line({ kind: 'done' }));
      return { exitCode: 0, stderr: '' };
    };
    await runPreflight(request, run);
    await runPreflight({ ...request, stamps: false }, run);
    await runPreflight({ ...request, stamps: true }, run);
    expect(headers).toEqual([
      { siteDirs: [], svnBindings: null },
      { siteDirs: [], svnBindings: null, stamps: false },
      { siteDirs: [], svnBindings: null },
    ]);
  });

  it('spreads 1,000 environments over 3 processes and keeps the order of the input', async () => {
    const { run, calls } = fakePython();
    const many = Array.from({ length: 1000 }, (_, i) => `/srv/env${i}`);
    const result = await runPreflight({ ...request, environments: many, workers: 3 }, run);
    if (result.status !== 'ran') throw new Error('expected ran');
    expect(result.environments.map((e) => e.path)).toEqual(many);
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.paths.length > 0)).toBe(true);
    expect(calls.flatMap((c) => c.paths).sort()).toEqual([...many].sort());
  });

  it('says skipped, with the reason, when the interpreter has no Trac', async () => {
    const { run } = fakePython(undefined, { ...python, trac: null, error: "ModuleNotFoundError: No module named 'trac'" });
    const result = await runPreflight(request, run);
    expect(result).toMatchObject({ status: 'skipped', reason: expect.stringContaining("cannot import Trac: ModuleNotFoundError: No module named 'trac'") });
  });

  it('names the environment Python died on; the others are answered by the other processes and a replacement', async () => {
    const many = Array.from({ length: 300 }, (_, i) => `/srv/env${i}`);
    const { run, calls } = fakePython((p) => (p === '/srv/env40' ? 'die' : 'answer'));
    const result = await runPreflight({ ...request, environments: many, workers: 2 }, run);
    if (result.status !== 'ran') throw new Error('expected ran');
    expect(result.environments.map((e) => e.path)).toEqual(many);
    const crashed = result.environments.filter((e) => e.problems.some((p) => p.code === 'preflight-crashed'));
    expect(crashed.map((e) => e.path)).toEqual(['/srv/env40']);
    expect(crashed[0]!.problems[0]!.message).toBe('/srv/env40: Python stopped while Trac opened this environment (killed by SIGSEGV): Fatal Python error: Segmentation fault');
    expect(result.environments.filter((e) => e.opened)).toHaveLength(299);
    expect(calls).toHaveLength(3);
  });

  it('with one process that keeps dying, every environment still gets a line', async () => {
    const many = Array.from({ length: 50 }, (_, i) => `/srv/env${i}`);
    const { run } = fakePython(() => 'die');
    const result = await runPreflight({ ...request, environments: many, workers: 1 }, run);
    if (result.status !== 'ran') throw new Error('expected ran');
    expect(result.environments.map((e) => e.path)).toEqual(many);
    expect(result.environments.every((e) => e.problems[0]?.code === 'preflight-crashed')).toBe(true);
    expect(result.environments[0]!.problems[0]!.message).toContain('Python stopped while Trac opened this environment');
    expect(result.environments[49]!.problems[0]!.message).toContain('not asked: the preflight processes stopped before this environment');
  });

  it('stops a process that answers nothing and reports the environment it hung on', async () => {
    const { run } = fakePython((p) => (p === '/srv/b' ? 'hang' : 'answer'));
    const outcome = await runPreflightWorkers(['/srv/a', '/srv/b', '/srv/c'], 1, (input, onLine, signal) => run('python', [], (async function* () {
      yield '{}\n';
      yield* input;
    })(), onLine, {}, signal), 50);
    expect(outcome.answers.map((a) => a?.path ?? null)).toEqual(['/srv/a', null, '/srv/c']);
    expect(outcome.crashed.get(1)).toMatchObject({ silent: true, signal: 'SIGKILL' });
  });

  it('says skipped when the program cannot start', async () => {
    const run: PreflightRunner = async () => ({ exitCode: null, stderr: '', error: 'no such program' });
    expect(await runPreflight(request, run)).toMatchObject({ status: 'skipped', reason: expect.stringContaining('no such program') });
  });

  it('uses one process per core for many environments, one for a few, and TRAC_DEPLOY_PREFLIGHT_WORKERS when set', () => {
    expect(preflightWorkerCount(1, undefined)).toBe(1);
    expect(preflightWorkerCount(100_000, undefined)).toBe(Math.min(os.availableParallelism(), 8));
    expect(preflightWorkerCount(100_000, '3')).toBe(3);
    expect(preflightWorkerCount(2, '3')).toBe(2);
    expect(preflightWorkerCount(100_000, '0')).toBe(Math.min(os.availableParallelism(), 8));
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
