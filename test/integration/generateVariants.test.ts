import fs from 'fs-extra';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configTest } from '../../src/apache/configTest.js';
import { withThrowawayServer } from '../../src/apache/throwawayServer.js';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { pythonCompileError } from '../helpers/python.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';
import os from 'node:os';

/**
 * generate on real environments whose paths hold quotes, spaces, $, % and non-ASCII letters:
 * every variant must compile under the Python mod_wsgi embeds and pass `apache2ctl -t`, and the
 * riskiest ones must really serve Trac.
 */
let root: string;
let env: string;
let parent: string;
let venvSite: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-variants-'));
  await fs.chmod(root, 0o755);
  const odd = path.join(root, `it's "ünï" $HOME 100% dir`);
  env = await initEnv(path.join(odd, 'env'), 'Odd Path Project');
  parent = path.join(root, 'parent');
  await initEnv(path.join(parent, 'one'), 'Project One');
  await initEnv(path.join(parent, 'two'), 'Project Two');
  await chownToApache(root);
  const lib = (await fs.readdir(path.join(VENV, 'lib'))).find((d) => d.startsWith('python3'));
  venvSite = path.join(VENV, 'lib', lib ?? 'python3', 'site-packages');
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

const VARIANTS: Record<string, (out: string) => string[]> = {
  'daemon with --python-home': (out) => ['generate', env, '--out', out, '--python-home', VENV],
  'embedded with --python-home': (out) => ['generate', env, '--out', out, '--mode', 'embedded', '--python-home', VENV],
  'embedded with --site-dir': (out) => ['generate', env, '--out', out, '--mode', 'embedded', '--site-dir', venvSite],
  'parent dir, pool disabled, strip domain': (out) => ['generate', parent, '--out', out, '--python-home', VENV, '--pool', 'disable', '--strip-domain'],
  'apache 2.2 syntax, root prefix': (out) => ['generate', env, '--out', out, '--python-home', VENV, '--apache-syntax', '2.2', '--url-prefix', '/'],
  'both syntaxes, egg cache with odd name': (out) => ['generate', env, '--out', out, '--python-home', VENV, '--apache-syntax', 'both', '--egg-cache', path.join(root, 'eggs $ % "q"')],
};

describe('every generated variant compiles and passes apache2ctl -t', () => {
  for (const [name, args] of Object.entries(VARIANTS)) {
    it(name, async () => {
      const out = path.join(root, `out ${name.replace(/\W+/g, '-')} "ü"`);
      const result = await runCli([...args(out), '--json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const files = (JSON.parse(result.stdout) as { files: { path: string; kind: string }[] }).files;
      expect(files.map((f) => f.kind).sort()).toEqual(['apache', 'wsgi']);
      const wsgi = files.find((f) => f.kind === 'wsgi')?.path ?? '';
      const conf = files.find((f) => f.kind === 'apache')?.path ?? '';
      expect(await pythonCompileError(wsgi)).toBe('');
      const test = await configTest([conf]);
      expect(test.output).toContain('Syntax OK');
      expect(test.ok).toBe(true);
    });
  }
});

describe('odd paths really serve Trac', () => {
  it.each([
    ['daemon mode with python-home', ['--python-home', VENV]],
    ['embedded mode with --site-dir', ['--mode', 'embedded', '--site-dir', '<site>']],
  ])('%s', async (_name, extra) => {
    const out = path.join(root, `served ${_name.replace(/\W+/g, '-')} 'ä' $`);
    const args = extra.map((a) => (a === '<site>' ? venvSite : a));
    const result = await runCli(['generate', env, '--out', out, ...args]);
    expect(result.code).toBe(0);
    const conf = path.join(out, 'env.conf');
    await withThrowawayServer({ includes: [conf] }, async (server) => {
      const response = await fetch(server.url('/trac/wiki/WikiStart'));
      const body = await response.text();
      const log = await server.errorLog();
      expect(response.status, log).toBe(200);
      expect(body).toMatch(/<title>\s*Odd Path Project\s*<\/title>/);
      expect(body).toContain("Powered by");
    });
  });
});
