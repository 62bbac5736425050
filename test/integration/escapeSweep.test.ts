import { execa } from 'execa';
import fc from 'fast-check';
import fs from 'fs-extra';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { configTest } from '../../src/apache/configTest.js';
import { UserError } from '../../src/errors.js';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import type { Inspection } from '../../src/inspect/types.js';
import { DEFAULT_GENERATE_OPTIONS, type GenerateOptions } from '../../src/plan/options.js';
import { planDeployment } from '../../src/plan/planDeployment.js';
import type { DeploymentPlan } from '../../src/plan/types.js';
import { renderPlan } from '../../src/render/renderPlan.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/**
 * Every user-supplied string that reaches Apache or Python text, one field at a time, through the
 * real planner and renderer: a hostile value (quotes, backslashes, line breaks, NUL, `%{`, `${`,
 * `<`, spaces, non-ASCII, arbitrary code points) is either refused with a usage error (one line,
 * exit 2) or round-trips: the configuration has the same directives and the same number of
 * arguments on every line as with a plain value, and the value is one argument exactly as the
 * plan holds it (read by an in-process copy of Apache's line reader and ap_getword_conf); the
 * .wsgi script compiles (Python's ast), has the same shape, and holds the value as one string
 * constant. A sample of the accepted configurations then goes through the real apache2ctl -t.
 */
const SEED = 20261126;
const HOSTILE = ['"', "'", '\\', '\\"', '\n', '\r\n', '\t', '\0', '%{HTTP_HOST}', '%{', '${HOME}', '$1', '<', '</Location>', ' ', 'a b', 'é', '€', '𝄞', '\u2028', '\ufeff', '\x7f', '#', '*', '[x]', '?'];

function hostileValues(count: number): string[] {
  const arbitrary = fc.sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }), { numRuns: count, seed: SEED });
  const mixed = fc.sample(fc.array(fc.constantFrom(...HOSTILE, 'a', 'x.y', '-'), { minLength: 1, maxLength: 5 }).map((a) => a.join('')), { numRuns: count, seed: SEED + 1 });
  return [...HOSTILE, ...arbitrary, ...mixed];
}

/** Apache's reading of a configuration: logical lines (a trailing backslash continues), then words. */
export function apacheLines(text: string): string[][] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = pending + raw.replace(/[ \t\r\v\f]+$/, '');
    if (line.endsWith('\\')) {
      pending = line.slice(0, -1);
      continue;
    }
    pending = '';
    logical.push(line);
  }
  return logical.map((l) => l.replace(/^[ \t\r\v\f]+/, '')).filter((l) => l !== '').map((l) => (l.startsWith('#') ? ['#'] : apacheWords(l)));
}

const SPACE = /[ \t\n\v\f\r]/;

/** ap_getword_conf: a word in double or single quotes (\" and \\ inside), or up to white space; mod_wsgi's key="value" options too. */
export function apacheWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const quoted = (q: string): string => {
    let w = '';
    i++;
    for (; i < line.length && line[i] !== q; i++) {
      if (line[i] === '\\' && (line[i + 1] === q || line[i + 1] === '\\')) w += line[++i];
      else w += line[i];
    }
    if (i >= line.length) throw new Error(`unterminated quote in ${JSON.stringify(line)}`);
    i++;
    return w;
  };
  while (i < line.length) {
    while (i < line.length && SPACE.test(line[i] ?? '')) i++;
    if (i >= line.length) break;
    const c = line[i] ?? '';
    if (c === '"' || c === "'") {
      words.push(quoted(c));
      continue;
    }
    let w = '';
    while (i < line.length && !SPACE.test(line[i] ?? '')) {
      if (line[i] === '"' && w.endsWith('=')) w += quoted('"');
      else w += line[i++];
    }
    words.push(w);
  }
  if (words.some((w) => w.includes('${'))) throw new Error(`Apache would expand \${ in ${JSON.stringify(line)}`);
  return words;
}

interface Field {
  flag: string;
  /** Options (and files made for them) for value v, under dir. */
  options: (v: string, dir: string) => Promise<Partial<GenerateOptions>>;
  /** The environment path instead of an option. */
  envPath?: boolean;
  /** What the plan made of the value: the argument the conf must hold, and the string the .wsgi must hold. */
  apache: (plan: DeploymentPlan) => string | null;
  python: (plan: DeploymentPlan) => string | null;
}

/** A path under dir whose last part is v, made as a directory or file when the name can exist. */
async function made(dir: string, sub: string, v: string, kind: 'dir' | 'file'): Promise<string> {
  const p = path.join(dir, sub, v);
  if (v.includes('\0') || !v.isWellFormed()) return p;
  try {
    if (kind === 'dir') await fs.mkdirp(p);
    else {
      await fs.mkdirp(path.dirname(p));
      await fs.writeFile(p, 'x\n', { mode: 0o600 });
    }
  } catch {
    // a name the file system will not take (too long, "." components): the planner decides
  }
  return p;
}

const SITE = { serverName: 'trac.example.org', logDir: '/var/log/apache2' };
const fields: Field[] = [
  { flag: 'environment path', envPath: true, options: async () => ({}), apache: () => null, python: (p) => p.source.path },
  { flag: '--out', options: async () => ({}), apache: (p) => p.files.wsgi, python: () => null },
  { flag: '--url-prefix', options: async (v) => ({ urlPrefix: `/${v}` }), apache: (p) => p.urlPrefix, python: () => null },
  { flag: '--name', options: async (v) => ({ name: v }), apache: (p) => p.files.wsgi, python: () => null },
  { flag: '--python-home (daemon)', options: async (v, d) => ({ pythonHome: await made(d, 'venv', v, 'dir') }), apache: (p) => `python-home=${p.daemon?.pythonHome}`, python: () => null },
  { flag: '--python-home (embedded)', options: async (v, d) => ({ pythonHome: await made(d, 'venv', v, 'dir'), mode: 'embedded' }), apache: () => null, python: (p) => p.python.home },
  { flag: '--site-dir', options: async (v, d) => ({ siteDir: [await made(d, 'site', v, 'dir')] }), apache: () => null, python: (p) => p.python.siteDirs[0] ?? null },
  { flag: '--egg-cache', options: async (v, d) => ({ eggCache: path.join(d, 'egg', v) }), apache: () => null, python: (p) => p.python.eggCache },
  { flag: '--server-name', options: async (v) => ({ serverName: v, logDir: '/var/log/apache2' }), apache: (p) => p.site?.serverName ?? null, python: () => null },
  { flag: '--server-alias', options: async (v) => ({ ...SITE, serverAlias: [v] }), apache: (p) => p.site?.aliases[0] ?? null, python: () => null },
  { flag: '--log-dir', options: async (v, d) => ({ ...SITE, logDir: await made(d, 'log', v, 'dir') }), apache: (p) => p.site?.errorLog ?? null, python: () => null },
  { flag: '--htdocs', options: async (v, d) => ({ htdocs: await made(d, 'htdocs', v, 'dir').then(async (h) => (await fs.mkdirp(path.join(h, 'common')).catch(() => undefined), h)) }), apache: (p) => p.staticAliases[0]?.dir ?? null, python: () => null },
  { flag: '--auth-user-file', options: async (v, d) => ({ auth: 'basic', authUserFile: await made(d, 'users', v, 'file') }), apache: (p) => p.auth.userFile, python: () => null },
  { flag: '--auth-realm', options: async (v, d) => ({ auth: 'basic', authRealm: v, authUserFile: await made(d, 'users', 'plain', 'file') }), apache: () => null, python: () => null },
  { flag: '--auth-require-group', options: async (v, d) => ({ auth: 'basic', authUserFile: await made(d, 'users', 'plain', 'file'), authGroupFile: await made(d, 'groups', 'plain', 'file'), authRequireGroup: v }), apache: () => null, python: () => null },
  { flag: '--auth-ldap-bind-dn', options: async (v, d) => ({ auth: 'ldap', authLdapUrl: 'ldap://ldap.example.org/ou=people,dc=example,dc=org?uid', authLdapBindDn: v, authLdapBindPasswordFile: await made(d, 'pw', 'plain', 'file') }), apache: () => null, python: () => null },
  { flag: '--auth-ldap-url', options: async (v, d) => ({ auth: 'ldap', authLdapUrl: `ldap://ldap.example.org/${v}`, authLdapBindDn: 'cn=x', authLdapBindPasswordFile: await made(d, 'pw', 'plain', 'file') }), apache: () => null, python: () => null },
  { flag: '--auth-keytab', options: async (v, d) => ({ auth: 'kerberos', authKeytab: await made(d, 'keytab', v, 'file') }), apache: () => null, python: () => null },
];

let inspection: Inspection;
let root: string;

beforeAll(async () => {
  root = await tempDir();
  await fs.chmod(root, 0o755);
  inspection = await inspectPath(await copyFixture('trac16-sqlite', root));
});

interface Rendered {
  conf: string;
  wsgi: string;
  plan: DeploymentPlan;
}

async function render(field: Field, value: string, dir: string): Promise<Rendered | UserError> {
  const options = { ...DEFAULT_GENERATE_OPTIONS, name: 'site', ...(await field.options(value, dir)) } as GenerateOptions;
  const envPath = `/srv/${value}`;
  const given = field.envPath
    ? { ...inspection, path: envPath, environments: inspection.environments.map((e) => ({ ...e, path: envPath })) }
    : inspection;
  const outDir = field.flag === '--out' ? path.join(dir, 'out', value) : path.join(dir, 'out');
  try {
    const plan = await planDeployment({ inspection: given, options, outDir });
    const files = renderPlan(plan);
    return { plan, conf: files.find((f) => f.kind === 'apache')?.content ?? '', wsgi: files.find((f) => f.kind === 'wsgi')?.content ?? '' };
  } catch (error) {
    if (error instanceof UserError) return error;
    throw new Error(`${field.flag} ${JSON.stringify(value)}: ${(error as Error).stack}`);
  }
}

const shape = (conf: string) => apacheLines(conf).map((words) => `${words[0]}/${words.length}`);

const PY_HARNESS = String.raw`
import ast, json, sys
out = []
for path in sys.argv[1:]:
    try:
        tree = ast.parse(open(path, 'rb').read(), path)
    except SyntaxError as e:
        out.append({'error': str(e)}); continue
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str): n.value = ''
    out.append({'strings': strings, 'shape': ast.dump(tree)})
sys.stdout.write(json.dumps(out, ensure_ascii=True))
`;

describe('every user-supplied string: refused with a usage error, or one exact argument and one exact Python string', () => {
  it('sweeps each field with hostile values', async () => {
    const values = hostileValues(40);
    const pyChecks: { field: Field; value: string; file: string; expected: string | null; baseline: boolean }[] = [];
    const forApache: string[] = [];
    const groups = new Set<string>();
    const summary: string[] = [];
    for (const [f, field] of fields.entries()) {
      const dir = path.join(root, `f${f}`);
      await fs.mkdirp(dir);
      const baseline = await render(field, 'plain', dir);
      if (baseline instanceof UserError) throw new Error(`${field.flag}: a plain value was refused: ${baseline.message}`);
      const base = { conf: shape(baseline.conf), file: path.join(dir, 'baseline.wsgi') };
      await fs.writeFile(base.file, baseline.wsgi);
      pyChecks.push({ field, value: 'plain', file: base.file, expected: field.python(baseline.plan), baseline: true });
      let refused = 0;
      let accepted = 0;
      for (const [i, value] of values.entries()) {
        const result = await render(field, value, path.join(dir, `v${i}`));
        const what = `${field.flag} ${JSON.stringify(value)}`;
        if (result instanceof UserError) {
          expect(result.exitCode, what).toBe(2);
          expect(result.message, what).not.toMatch(/[\n\r\0]/);
          refused++;
          continue;
        }
        accepted++;
        let lines: string[][];
        try {
          lines = apacheLines(result.conf);
        } catch (error) {
          throw new Error(`${what}: ${(error as Error).message}\n${result.conf}`);
        }
        expect(lines.map((w) => `${w[0]}/${w.length}`), what).toEqual(base.conf);
        const arg = field.apache(result.plan);
        if (arg !== null) expect(lines.some((words) => words.includes(arg)), `${what}: ${JSON.stringify(arg)} is not one argument`).toBe(true);
        const file = path.join(dir, `v${i}.wsgi`);
        await fs.writeFile(file, result.wsgi);
        pyChecks.push({ field, value, file, expected: field.python(result.plan), baseline: false });
        if (accepted <= 3 && !result.plan.site?.tls && result.plan.auth.method !== 'kerberos' && !groups.has(result.plan.name)) {
          if (result.plan.name !== 'site') groups.add(result.plan.name);
          const conf = path.join(root, `apache-${f}-${i}.conf`);
          // one daemon group per file: the sample is tested together
          await fs.writeFile(conf, result.conf.replace(/\bsite\b(?=[\s".])/g, `s${f}x${i}`));
          forApache.push(conf);
        }
      }
      summary.push(`${field.flag}: ${accepted} accepted, ${refused} refused`);
    }
    const run = await execa(SYSTEM_PYTHON, ['-c', PY_HARNESS, ...pyChecks.map((c) => c.file)], { stdin: 'ignore' });
    const results = JSON.parse(String(run.stdout)) as ({ strings: string[]; shape: string } | { error: string })[];
    const baselines = new Map<Field, string>();
    for (const [i, check] of pyChecks.entries()) {
      const result = results[i];
      const what = `${check.field.flag} ${JSON.stringify(check.value)}`;
      if (!result || 'error' in result) throw new Error(`${what}: the .wsgi does not compile: ${result && 'error' in result ? result.error : 'no result'}`);
      if (check.baseline) baselines.set(check.field, result.shape);
      else expect(result.shape, what).toBe(baselines.get(check.field));
      if (check.expected !== null) expect(result.strings, what).toContain(check.expected);
    }
    console.log(`escape sweep: ${summary.join('; ')}; ${pyChecks.length} .wsgi scripts parsed`);

    // The real parser on a sample of the accepted configurations (snippets and plain-http sites).
    const test = await configTest(forApache, { modules: ['mpm_event', 'authz_core', 'authn_core', 'authn_file', 'authz_user', 'authz_groupfile', 'auth_basic', 'alias', 'headers', 'env', 'ldap', 'authnz_ldap', 'auth_kerb', 'wsgi'] });
    if (!test.ok) {
      for (const file of forApache) {
        const one = await configTest([file]);
        expect(one.output, `${file}: ${one.output}`).toContain('Syntax OK');
      }
    }
    expect(test.output, test.output).toContain('Syntax OK');
  }, 300_000);
});

describe('the in-process reader agrees with Apache on the cases that matter', () => {
  it('splits words and quotes as ap_getword_conf', () => {
    expect(apacheWords(`WSGIScriptAlias "/a b" "/x\\"y" process-group=g python-home="/v w"`)).toEqual(['WSGIScriptAlias', '/a b', '/x"y', 'process-group=g', 'python-home=/v w']);
    expect(apacheLines('Alias /a \\\n  /b\n# c\n')).toEqual([['Alias', '/a', '/b'], ['#']]);
    expect(() => apacheWords('Alias "/a')).toThrow('unterminated');
    expect(() => apacheWords('Alias "/${HOME}"')).toThrow('expand');
    // U+2028 and U+00A0 are not white space to Apache (C locale isspace)
    expect(apacheWords('Alias /a\u2028b /c\u00a0d')).toEqual(['Alias', '/a\u2028b', '/c\u00a0d']);
  });
});
