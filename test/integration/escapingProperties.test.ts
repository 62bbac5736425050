import { execa } from 'execa';
import fc from 'fast-check';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTest } from '../../src/apache/configTest.js';
import { findApache } from '../../src/apache/layout.js';
import { serverConfig } from '../../src/apache/serverConfig.js';
import { apacheArg, apacheAuthName, apacheProblem, authNameProblem } from '../../src/escape/apache.js';
import { ThrowawayServer } from '../../src/apache/throwawayServer.js';
import net from 'node:net';
import { UserError } from '../../src/errors.js';
import { apacheSafePath } from '../../src/plan/validate.js';
import { renderPlan } from '../../src/render/renderPlan.js';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { sampleAuth, samplePlan } from '../helpers/samplePlan.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/**
 * Arbitrary text (every Unicode code point, quotes, backslashes, control characters, "${",
 * wildcards) pushed through the Python and Apache escaping. Inputs come from fast-check with a
 * fixed seed so a failure reproduces; each batch goes through one real interpreter run.
 */
const SEED = 20261125;
const NASTY = ["'", '"', '\\', "\\'", '\n', '\r\n', '\t', '\0', '${HOME}', '$HOME', '%{GLOBAL}', '*', '?', '[a]', ' ', 'é', '€', '𝄞', '\u2028', '\ufeff', '\x7f', "u'", '"""', '#'];

function texts(count: number, filter: (s: string) => boolean = () => true): string[] {
  const sampled = fc.sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), { numRuns: count, seed: SEED });
  const mixed = fc.sample(fc.array(fc.constantFrom(...NASTY, 'a', '/', 'x y'), { minLength: 1, maxLength: 8 }).map((a) => a.join('')), { numRuns: count, seed: SEED + 1 });
  return [...NASTY, ...sampled, ...mixed].filter(filter);
}

const HARNESS = String.raw`
import json, os, sys, types
results = []
for script in sys.argv[1:]:
    main = types.ModuleType('trac.web.main')
    main.dispatch_request = lambda environ, start_response: environ
    trac = types.ModuleType('trac'); web = types.ModuleType('trac.web')
    trac.web = web; web.main = main
    sys.modules.update({'trac': trac, 'trac.web': web, 'trac.web.main': main})
    os.environ.pop('PYTHON_EGG_CACHE', None)
    namespace = {'__file__': script}
    with open(script, 'rb') as f:
        exec(compile(f.read(), script, 'exec'), namespace)
    environ = namespace['application']({}, None)
    results.append({'env': environ.get('trac.env_path') or environ.get('trac.env_parent_dir'), 'egg': os.environ.get('PYTHON_EGG_CACHE')})
print(json.dumps(results))
`;

describe('Python escaping, run by the real python3', () => {
  it('every generated script reports exactly the environment path and egg cache it was given', async () => {
    const dir = await tempDir();
    const envPaths = texts(150);
    // os.environ cannot hold NUL or unpaired surrogates; paths on Linux cannot either.
    const eggs = texts(150, (s) => !s.includes('\0') && s.isWellFormed());
    const cases = envPaths.map((env, i) => ({ env: `/srv/${env}`, egg: `/var/cache/${eggs[i % eggs.length] ?? 'x'}`, parent: i % 2 === 1 }));
    const scripts: string[] = [];
    for (const [i, c] of cases.entries()) {
      const plan = samplePlan({
        source: { kind: c.parent ? 'parent' : 'environment', path: c.env, environments: [] },
        python: { home: null, siteDirs: [], eggCache: c.egg },
        daemon: null,
        mode: 'embedded',
        auth: sampleAuth({ stripDomain: i % 3 === 0 }),
      });
      const wsgi = renderPlan(plan).find((f) => f.kind === 'wsgi');
      const file = path.join(dir, `case${i}.wsgi`);
      await fs.writeFile(file, wsgi?.content ?? '');
      scripts.push(file);
    }
    const run = await execa(SYSTEM_PYTHON, ['-c', HARNESS, ...scripts], { reject: false, stdin: 'ignore' });
    expect(run.stderr).toBe('');
    const results = JSON.parse(String(run.stdout)) as { env: string; egg: string }[];
    expect(results).toHaveLength(cases.length);
    for (const [i, c] of cases.entries()) expect(results[i]).toEqual({ env: c.env, egg: c.egg });
  });
});

describe('Apache escaping, checked by apache2ctl -t', () => {
  it('Apache reads back exactly every value apacheArg accepts (Define + DUMP_RUN_CFG)', async () => {
    const dir = await tempDir();
    const values = texts(200).filter((v) => apacheProblem(v) === null);
    expect(values.length).toBeGreaterThan(100);
    const conf = path.join(dir, 'defines.conf');
    await fs.writeFile(conf, values.map((v, i) => `Define V${i} ${apacheArg(v)}`).join('\n') + '\n');
    const layout = findApache();
    const main = path.join(dir, 'httpd.conf');
    await fs.mkdirp(path.join(dir, 'htdocs'));
    await fs.writeFile(main, serverConfig(layout, { root: dir, port: 9, asRoot: false, includes: [conf], modules: ['mpm_event', 'authz_core'] }));
    const run = await execa(layout.binary, ['-f', main, '-t', '-D', 'DUMP_RUN_CFG'], { reject: false, stdin: 'ignore', all: true });
    expect(String(run.all)).toContain('Define: DUMP_RUN_CFG');
    // split on \n only: JavaScript's ^, $ and . also stop at U+2028, which Apache does not
    const seen = new Map<number, string>();
    for (const line of String(run.all).split('\n')) {
      const m = /^Define: V(\d+)=/.exec(line);
      if (m) seen.set(Number(m[1]), line.slice(m[0].length));
    }
    for (const [i, v] of values.entries()) expect(seen.get(i), JSON.stringify(v)).toBe(v);
  });

  it('every path is refused with a clear error or gives a configuration Apache accepts', async () => {
    const dir = await tempDir();
    const values = texts(120);
    const accepted: string[] = [];
    let refused = 0;
    for (const [i, value] of values.entries()) {
      const outDir = `/srv/out/${value}`;
      const home = `/srv/venv ${values[(i + 7) % values.length]}`;
      try {
        apacheSafePath('--out', outDir);
        apacheSafePath('--python-home', home);
      } catch (error) {
        expect(error).toBeInstanceOf(UserError);
        const message = (error as Error).message;
        expect(message).toMatch(/^--(out|python-home) ".*" cannot be used in an Apache configuration: .+; choose another path$/s);
        expect(message).not.toMatch(/[\r\n\0]/);
        refused++;
        continue;
      }
      const name = `p${i}`;
      const plan = samplePlan({
        name,
        urlPrefix: `/t${i}`,
        daemon: { processGroup: name, processes: 1, threads: 1, pythonHome: home, timeouts: [] },
        python: { home, siteDirs: [], eggCache: '/tmp/egg' },
        files: { outDir, wsgi: `${outDir}/${name}.wsgi`, apache: path.join(dir, `${name}.conf`) },
        apacheSyntax: (['2.4', '2.2', 'both'] as const)[i % 3] ?? '2.4',
      });
      const conf = renderPlan(plan).find((f) => f.kind === 'apache');
      await fs.writeFile(path.join(dir, `${name}.conf`), conf?.content ?? '');
      accepted.push(path.join(dir, `${name}.conf`));
    }
    expect(refused).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(50);
    const all = await configTest(accepted);
    if (!all.ok) {
      // name the culprit
      for (const file of accepted) {
        const one = await configTest([file]);
        expect(one.output, await fs.readFile(file, 'utf8')).toContain('Syntax OK');
      }
    }
    expect(all.output).toContain('Syntax OK');
  });

  it('the CLI refuses an unusable --out before writing anything, or writes a config Apache accepts', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    // argv cannot carry NUL; everything else goes
    const names = [...NASTY.filter((n) => n !== '\0').slice(0, 12), ...fc.sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\0') && s.isWellFormed() && s !== '.' && s !== '..'), { numRuns: 4, seed: SEED })];
    for (const [i, name] of names.entries()) {
      const base = path.join(dir, `case${i}`);
      const out = path.join(base, name);
      const r = await runCli(['generate', env, '--out', out, '--name', 'site']);
      if (r.code === 0) {
        const test = await configTest([path.join(path.resolve(out), 'site.conf')]);
        expect(test.output, JSON.stringify(name)).toContain('Syntax OK');
      } else {
        expect(r.code, `${JSON.stringify(name)}: ${r.stderr}`).toBe(2);
        expectCleanError(r);
        expect(await fs.pathExists(base), JSON.stringify(name)).toBe(false);
      }
    }
  });
});

/** The raw bytes of an HTTP/1.0 answer, read from the socket (no client decoding in between). */
function rawGet(port: number, urlPath: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${urlPath} HTTP/1.0\r\nHost: evil.example\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

/** The realm of `WWW-Authenticate: Basic realm="..."`, its quoted-string unescaped, as bytes. */
function realmOf(answer: Buffer): Buffer | null {
  const head = answer.subarray(0, answer.indexOf('\r\n\r\n'));
  const start = head.indexOf('WWW-Authenticate: Basic realm="');
  if (start < 0) return null;
  const out: number[] = [];
  for (let i = start + 'WWW-Authenticate: Basic realm="'.length; i < head.length; i++) {
    const b = head[i] ?? 0;
    if (b === 0x5c) out.push(head[++i] ?? 0);
    else if (b === 0x22) return Buffer.from(out);
    else out.push(b);
  }
  return null;
}

describe('--auth-realm through real Apache: the browser gets the realm byte for byte', () => {
  it('every realm is refused with a reason, or reaches WWW-Authenticate exactly', async () => {
    const values = [
      ...texts(150),
      'Corp\\Dev', 'x%{', '%{HTTP_HOST}', 'a$1b', '${HOME}', '\\', 'a\\', '\\134', '%{:true:}', '$0$9', 'Corp "Trac"', "it's", ' lead ', 'x}{', '\\x41', 'caf\u00e9 \u20ac \u{1d11e}',
    ];
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const v of values) (authNameProblem(v) === null ? accepted : refused).push(v);
    for (const v of refused) expect(() => apacheAuthName(v), JSON.stringify(v)).toThrow(/cannot be written into an Apache configuration: (it is empty|it contains a control character|it is not valid Unicode|Apache sends a backslash)/);
    const server = await ThrowawayServer.start({
      includes: async (root) => {
        const conf = path.join(root, 'realms.conf');
        await fs.writeFile(conf, accepted.map((v, i) => `<Location /r${i}>\n    AuthType Basic\n    AuthName ${apacheAuthName(v)}\n    AuthBasicProvider file\n    AuthUserFile /dev/null\n    Require valid-user\n</Location>\n`).join(''));
        return [conf];
      },
    });
    const wrong: string[] = [];
    try {
      for (const [i, v] of accepted.entries()) {
        const answer = await rawGet(server.port, `/r${i}/`);
        const realm = realmOf(answer);
        if (!realm?.equals(Buffer.from(v, 'utf8'))) wrong.push(`${JSON.stringify(v)} -> ${JSON.stringify(realm?.toString('utf8') ?? answer.toString('latin1').split('\r\n')[0])}`);
      }
    } finally {
      await server.stop();
    }
    console.log(`--auth-realm: ${values.length} hostile values tried, ${refused.length} refused, ${accepted.length - wrong.length} reached the browser byte for byte, ${wrong.length} wrong`);
    expect(wrong).toEqual([]);
    expect(accepted.length).toBeGreaterThan(100);
  }, 120000);

  it('generate with a realm Apache would evaluate writes a configuration Apache accepts (x%{ no longer fails the configtest)', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const users = path.join(dir, 'htpasswd');
    await fs.writeFile(users, 'alice:$apr1$x$y\n');
    for (const [i, realm] of ['x%{', 'Corp "Dev" $1', '%{HTTP_HOST}', '${APACHE_RUN_USER}'].entries()) {
      const out = path.join(dir, `out${i}`);
      const r = await runCli(['generate', env, '--out', out, '--name', 'site', '--auth', 'basic', '--auth-user-file', users, '--auth-realm', realm]);
      expect(r.code, r.stderr).toBe(0);
      const test = await configTest([path.join(out, 'site.conf')]);
      expect(test.output, realm).toContain('Syntax OK');
    }
    const control = await runCli(['generate', env, '--out', path.join(dir, 'bad'), '--name', 'site', '--auth', 'basic', '--auth-user-file', users, '--auth-realm', 'a\tb']);
    expect(control.code).toBe(2);
    expectCleanError(control);
    expect(control.stderr).toContain('control character');
    const backslash = await runCli(['generate', env, '--out', path.join(dir, 'bad'), '--name', 'site', '--auth', 'basic', '--auth-user-file', users, '--auth-realm', 'Corp\\Dev']);
    expect(backslash.code).toBe(2);
    expectCleanError(backslash);
    expect(backslash.stderr).toContain('browsers drop it');
    expect(await fs.pathExists(path.join(dir, 'bad'))).toBe(false);
  }, 120000);
});
