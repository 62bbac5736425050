import Database from 'better-sqlite3';
import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ROOT, VENV } from '../helpers/paths.js';
import { sharedDir } from '../helpers/smokeBed.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * python/preflight.py keeps, within one process, what Trac computes the same way for every
 * environment (each trac.ini section's parse, the [ticket-workflow] parse, configparser's
 * converter names, libpq's version, plugin requirements). These tests ask Trac with all of that
 * (the default) and without any of it (TRAC_DEPLOY_PREFLIGHT_PLAIN=1, Trac's code as it is) over
 * environments that differ where the kept answers could leak from one to the next, and require
 * the same verdicts, and Trac's own.
 */
const PYTHON = path.join(VENV, 'bin', 'python');
const PREFLIGHT = path.join(ROOT, 'python', 'preflight.py');
let root: string;
let parent: string;

interface Report {
  preflight: { status: string };
  environments: { name: string; problems: { code: string; message: string }[]; preflight: { project: string | null; opened: boolean } | null }[];
}

async function inspect(plain: boolean, dir = parent): Promise<Report> {
  // An empty cache each time: Trac is asked (a directory's verdicts are kept between runs).
  const env: Record<string, string> = { TRAC_DEPLOY_PREFLIGHT_WORKERS: '1', TRAC_DEPLOY_CACHE_DIR: await fs.mkdtemp(path.join(root, 'cache-')) };
  if (plain) env.TRAC_DEPLOY_PREFLIGHT_PLAIN = '1';
  const r = await runCli(['inspect', dir, '--json', '--python-home', VENV], { env });
  expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

/**
 * A plugin whose upgrade check reads the environment's workflow actions (so a kept
 * [ticket-workflow] parse is seen in Trac's verdict) and then scribbles over them (so actions
 * shared between environments would show in the next one's verdict).
 */
const PROBE = `from trac.core import Component, implements
from trac.env import IEnvironmentSetupParticipant
from trac.ticket.default_workflow import ConfigurableTicketWorkflow


class WorkflowProbe(Component):
    implements(IEnvironmentSetupParticipant)

    def environment_created(self):
        pass

    def environment_needs_upgrade(self):
        actions = ConfigurableTicketWorkflow(self.env).actions
        wanted = self.config.get('probe', 'wants_action')
        needs = bool(wanted) and wanted not in actions
        for attributes in actions.values():
            attributes.get('operations', []).append('scribbled')
            attributes.get('oldstates', []).append('scribbled')
        actions.pop('resolve', None)
        return needs

    def upgrade_environment(self):
        pass
`;

/** Each kind: what to do to a copy of an initenv-made environment, and Trac's verdict (codes) when it is known. */
const KINDS: Record<string, { change: (env: string, ini: string) => Promise<string | void>; codes?: string[] }> = {
  good: { change: async () => {}, codes: [] },
  'probe-resolve': { change: async (env, ini) => withProbe(env, `${ini}\n[probe]\nwants_action = resolve\n`), codes: [] },
  'probe-fly': { change: async (env, ini) => withProbe(env, `${ini}\n[probe]\nwants_action = fly\n`), codes: ['needs-upgrade'] },
  'probe-own-workflow': {
    change: async (env, ini) => withProbe(env, `${ini.replace(/\[ticket-workflow\][^[]*/, '[ticket-workflow]\nleave = * -> *\nleave.operations = leave_status\nfinish = new -> closed\n\n')}\n[probe]\nwants_action = resolve\n`),
    codes: ['needs-upgrade'],
  },
  'probe-own-workflow-finish': {
    change: async (env, ini) => withProbe(env, `${ini.replace(/\[ticket-workflow\][^[]*/, '[ticket-workflow]\nleave = * -> *\nleave.operations = leave_status\nfinish = new -> closed\n\n')}\n[probe]\nwants_action = finish\n`),
    codes: [],
  },
  'probe-disabled': { change: async (env, ini) => withProbe(env, `${ini}\n[components]\nworkflow_probe.* = disabled\n\n[probe]\nwants_action = fly\n`), codes: [] },
  'probe-inherit': { change: async (env, ini) => withProbe(env, ini.replace(/\[inherit\]\n/, `[inherit]\nfile = ${path.join(root, 'shared.ini')}\n`)), codes: ['needs-upgrade'] },
  'inherit-no-probe': { change: async (_env, ini) => ini.replace(/\[inherit\]\n/, `[inherit]\nfile = ${path.join(root, 'shared.ini')}\n`), codes: [] },
  'workflow-disabled': { change: async (env, ini) => withProbe(env, `${ini}\n[components]\ntrac.ticket.default_workflow.* = disabled\n\n[probe]\nwants_action = resolve\n`) },
  'old-database': {
    change: async (env) => {
      const db = new Database(path.join(env, 'db', 'trac.db'));
      db.prepare("UPDATE system SET value='41' WHERE name='database_version'").run();
      db.close();
    },
    codes: ['needs-upgrade'],
  },
  'default-section': { change: async (_env, ini) => `[DEFAULT]\nshared_default = yes\n\n${ini}` },
  'duplicate-section': { change: async (_env, ini) => `${ini}\n[trac]\nbase_url =\n` },
  'no-header-first': { change: async (_env, ini) => `stray = value\n${ini}`, codes: ['trac-cannot-open'] },
  'indented-header': { change: async (_env, ini) => ini.replace(/(\[project\]\n(?:.*\n)*?descr = .*\n)/, '$1    [not-a-section]\n'), codes: [] },
};

async function withProbe(env: string, ini: string): Promise<string> {
  await fs.mkdirp(path.join(env, 'plugins'));
  await fs.writeFile(path.join(env, 'plugins', 'workflow_probe.py'), PROBE);
  return ini;
}

/**
 * Plugins that change what Trac computes for the environments after them, or within their own:
 * one that makes option names case-sensitive (UnicodeConfigParser.optionxform), one that adds to
 * the list [ticket-workflow] actions without permissions share (Trac's parse gives them one).
 */
const XFORM = `from trac.config import UnicodeConfigParser
UnicodeConfigParser.optionxform = lambda self, option: option
`;
const SHARED_LISTS = `from trac.core import Component, implements
from trac.env import IEnvironmentSetupParticipant
from trac.ticket.default_workflow import ConfigurableTicketWorkflow


class SharedListsProbe(Component):
    implements(IEnvironmentSetupParticipant)

    def environment_created(self):
        pass

    def environment_needs_upgrade(self):
        actions = ConfigurableTicketWorkflow(self.env).actions
        actions['foo']['permissions'].append('X')
        return 'X' in actions['bar']['permissions']

    def upgrade_environment(self):
        pass
`;
const ZED = '[project]\nName = Zed\n';
/** name: trac.ini, plugin (file name and text), in the order inspect reads them. */
const QUIRKS: [string, string, [string, string]?][] = [
  ['a-shared-lists', '[ticket-workflow]\nfoo = * -> *\nbar = * -> *\n', ['shared_lists.py', SHARED_LISTS]],
  ['b-zed', ZED],
  ['c-zed-xform', ZED, ['xform.py', XFORM]],
  ['d-zed', ZED],
];
let quirks: string;

const names: { name: string; kind: string; project: string }[] = [];

beforeAll(async () => {
  root = await sharedDir('trac-deploy-preflight-memo-');
  parent = path.join(root, 'projects');
  await fs.writeFile(path.join(root, 'shared.ini'), '[probe]\nwants_action = fly\n');
  const template = await initEnv(path.join(root, 'template'), 'Template');
  const templateIni = await fs.readFile(path.join(template, 'conf', 'trac.ini'), 'utf8');
  // Kinds interleaved, twice over: a kept answer from one kind meets every other kind after it.
  let n = 0;
  for (let round = 0; round < 2; round++) {
    for (const [kind, { change }] of Object.entries(KINDS)) {
      const name = `${String(n).padStart(2, '0')}-${kind}`;
      const project = `Project ${n} of kind ${kind}`;
      const env = path.join(parent, name);
      await fs.copy(template, env);
      const ini = templateIni.replace('name = Template', `name = ${project}`);
      const changed = await change(env, ini);
      await fs.writeFile(path.join(env, 'conf', 'trac.ini'), typeof changed === 'string' ? changed : ini);
      names.push({ name, kind, project });
      n++;
    }
  }
  quirks = path.join(root, 'quirks');
  for (const [name, ini, plugin] of QUIRKS) {
    const env = path.join(quirks, name);
    await fs.copy(template, env);
    await fs.writeFile(path.join(env, 'conf', 'trac.ini'), ini);
    if (plugin) await fs.writeFile(path.join(env, 'plugins', plugin[0]), plugin[1]);
  }
  if (process.getuid?.() === 0) await chownToApache(root);
}, 600_000);

afterAll(async () => {
  if (root) await fs.remove(root);
});

describe('what the preflight keeps between environments gives Trac\'s own answer', () => {
  it('the same verdicts with and without it, over environments that differ (plugins, components, workflow, inherit, database, trac.ini shape)', async () => {
    const kept = await inspect(false);
    const plain = await inspect(true);
    expect(kept.preflight.status).toBe('ran');
    expect(kept.environments.map((e) => e.name)).toEqual(names.map((n) => n.name));
    expect(kept.environments).toEqual(plain.environments);
    for (const [index, { kind, project }] of names.entries()) {
      const env = kept.environments[index]!;
      const codes = env.problems.map((p) => p.code).filter((c) => c !== 'trac-ini-syntax');
      const expected = KINDS[kind]!.codes;
      if (expected) expect(codes, `${env.name}: ${JSON.stringify(env.problems)}`).toEqual(expected);
      if (env.preflight?.opened) expect(env.preflight.project).toBe(project);
    }
    // The shapes configparser reads differently were read as Trac reads them.
    const byKind = (kind: string) => kept.environments.filter((_, i) => names[i]!.kind === kind);
    expect(byKind('duplicate-section').every((e) => e.problems.some((p) => p.code === 'trac-cannot-open' && /DuplicateSection|already exists/.test(p.message)))).toBe(true);
    expect(byKind('default-section').every((e) => e.preflight?.opened)).toBe(true);
  }, 600_000);
});

describe('what a plugin changes in Trac is seen by the preflight too', () => {
  it('a later optionxform and the default workflow lists shared between actions give Trac\'s own verdicts', async () => {
    const kept = await inspect(false, quirks);
    const plain = await inspect(true, quirks);
    expect(kept.environments.map((e) => e.name)).toEqual(QUIRKS.map(([name]) => name));
    expect(kept.environments).toEqual(plain.environments);
    const [shared, before, xform, after] = plain.environments;
    // Trac's parse gives foo and bar one permissions list: the probe's addition shows in both.
    expect(shared!.problems.map((p) => p.code)).toContain('needs-upgrade');
    // Option names folded to lower case until the plugin is loaded, kept as written after it.
    expect([before, xform, after].map((e) => e!.preflight?.project)).toEqual(['Zed', 'Zed', 'My Project']);
  }, 600_000);
});

/** python/preflight.py (argv[1]) loaded as a module, its trac.ini memo installed on Trac's parser. */
const LOAD_PREFLIGHT = String.raw`
import importlib.util, sys
spec = importlib.util.spec_from_file_location('preflight_under_test', sys.argv[1])
preflight = importlib.util.module_from_spec(spec)
spec.loader.exec_module(preflight)
from trac.config import UnicodeConfigParser
original = UnicodeConfigParser.read
preflight.remember_parsed_sections()
`;

/**
 * Each environment its own large [repositories] section, each trac.ini read twice: the bytes
 * remember_parsed_sections holds (traced by tracemalloc after the reads) stay within its bound,
 * whatever the number of files, and every read gives configparser's own answer.
 */
const MEMORY = LOAD_PREFLIGHT + String.raw`
import gc, json, os, tempfile, tracemalloc
kept = UnicodeConfigParser.read
assert kept is not original
count, options = int(sys.argv[2]), int(sys.argv[3])
SHARED = '[trac]\ndatabase = sqlite:db/trac.db\nbase_url =\n\n[logging]\nlog_type = none\n\n'

def state(read, name):
    parser = UnicodeConfigParser()
    read(parser, name)
    return list(parser._sections.items())

differing = 0
with tempfile.TemporaryDirectory() as tmp:
    name = os.path.join(tmp, 'trac.ini')
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        with open(name, 'w', encoding='utf-8') as f:
            f.write('[project]\nname = Project %d\n\n' % i + SHARED + '[repositories]\n' + ''.join(
                'p%d-r%d.dir = /srv/svn/project-%d/repository-%d\np%d-r%d.type = svn\n' % (i, r, i, r, i, r)
                for r in range(options // 2)))
        want = state(original, name)
        for _ in range(2):
            differing += state(kept, name) != want
        del want
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
print(json.dumps({'held': held, 'differing': differing, 'reads': 2 * count}))
`;

describe('what remember_parsed_sections keeps', () => {
  it('is bounded by bytes, not by entries: 120 environments with 1,000-option sections of their own', async () => {
    const r = await execa(PYTHON, ['-c', MEMORY, PREFLIGHT, '120', '1000'], { reject: false });
    expect(r.exitCode, r.stderr.slice(0, 4000)).toBe(0);
    const result = JSON.parse(r.stdout) as { held: number; differing: number; reads: number };
    expect(result.reads).toBe(240);
    expect(result.differing).toBe(0);
    // Two budgets of 3 MB (sections, whole files) and the marks of texts seen once; unbounded,
    // these 120 files held about 27 MB.
    expect(result.held).toBeLessThan(8 * 2 ** 20);
  }, 300_000);
});

/**
 * configparser through remember_parsed_sections against configparser alone, over generated
 * files made of the lines where reading a file section by section could differ from reading it
 * whole: each file read twice (the second time from what was kept), the parser then used
 * through its mapping interface (section proxies made when asked for).
 */
const COMPARE = LOAD_PREFLIGHT + String.raw`
import json, os, random, tempfile
preflight.remember_converter_names()
kept = UnicodeConfigParser.read
assert kept is not original

LINES = ['[a]', '[b]', '[c]', '[DEFAULT]', '  [a]', '\t[b]', '[a', '[c] trailing', '[ä]', 'x = 1', 'X = 2', 'y: 3',
         ' y = 4', '  continued', '\tcontinued too', '', '   ', '# comment', '; comment', '  # indented comment',
         'bad line', 'z =', 'k = v ; no inline comments', '= novalue', 'ü = 5']

sectioned = [0]

def outcome(read, filename):
    parser = UnicodeConfigParser()
    try:
        result = read(parser, filename)
        sectioned[0] += type(parser._proxies).__name__ == 'LazySectionProxies'
        state = [result, list(parser._sections.items()), dict(parser._defaults), parser.sections()]
        state.append([[name, list(parser[name].items()), name in parser] for name in parser.sections()])
        state.append(sorted(parser.converters))
        for name in parser.sections():
            parser.set(name, 'scribbled', 'over what was kept')
        for name in parser.sections()[:1]:
            state.append(parser.remove_section(name))
        state.append([list(parser[name].items()) for name in parser.sections()])
        return ['ok', repr(state)]
    except Exception as e:
        return ['error', type(e).__name__, str(e)]

random.seed(int(sys.argv[2]))
compared = differing = 0
kept_hits = 0
with tempfile.TemporaryDirectory() as tmp:
    for i in range(int(sys.argv[3])):
        lines = [random.choice(LINES) for _ in range(random.randint(0, 12))]
        if random.random() < 0.7 and lines:
            lines.insert(0, random.choice(['[a]', '[b]', '[c]']))
        ending = random.choice(['\n', '\r\n', '\r'])
        name = os.path.join(tmp, 'f%d.ini' % i)
        with open(name, 'w', encoding='utf-8', newline='') as f:
            f.write(ending.join(lines) + random.choice(['', ending]))
        want = outcome(original, name)
        for _ in range(2):
            got = outcome(kept, name)
            compared += 1
            if got != want:
                differing += 1
                if differing <= 5:
                    print(json.dumps({'file': lines, 'want': want, 'got': got}), file=sys.stderr)
        kept_hits += want[0] == 'ok'
print(json.dumps({'compared': compared, 'differing': differing, 'ok': kept_hits, 'sectioned': sectioned[0]}))
`;

describe('trac.ini read section by section, each section kept', () => {
  it('reads every generated file exactly as configparser reads it whole, errors included', async () => {
    const r = await execa(PYTHON, ['-c', COMPARE, PREFLIGHT, '16', '3000'], { reject: false });
    expect(r.exitCode, r.stderr.slice(0, 4000)).toBe(0);
    const result = JSON.parse(r.stdout) as { compared: number; differing: number; ok: number; sectioned: number };
    expect(result.differing, r.stderr.slice(0, 4000)).toBe(0);
    expect(result.compared).toBe(6000);
    // Enough of them parse for the comparison to mean something.
    expect(result.ok).toBeGreaterThan(300);
    // And most of those were read section by section, not handed back to configparser whole.
    expect(result.sectioned).toBeGreaterThan(result.ok);
  }, 300_000);
});

describe('what only a kept verdict needs', () => {
  it('is left out of each answer when the request says stamps: false, and given otherwise', async () => {
    const env = path.join(parent, names[0]!.name);
    const ask = async (header: object) => {
      const r = await execa(PYTHON, [PREFLIGHT], { input: `${JSON.stringify(header)}\n${JSON.stringify(env)}\n`, env: { PYTHONDONTWRITEBYTECODE: '1', PYTHON_EGG_CACHE: path.join(root, '.egg-cache') }, reject: false });
      expect(r.exitCode, r.stderr.slice(0, 2000)).toBe(0);
      const answers = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      return answers.find((a) => a.kind === 'environment')!;
    };
    const STAMPS = ['inputs', 'accessInputs', 'databaseScheme', 'databaseFile', 'configFiles', 'pluginsDirs'];
    const full = await ask({ siteDirs: [], svnBindings: null });
    const lean = await ask({ siteDirs: [], svnBindings: null, stamps: false });
    for (const key of STAMPS) expect(full, key).toHaveProperty(key);
    expect(full.databaseScheme).toBe('sqlite');
    for (const key of STAMPS) expect(lean, key).not.toHaveProperty(key);
    const without = Object.fromEntries(Object.entries(full).filter(([key]) => !STAMPS.includes(key)));
    expect(lean).toEqual(without);
  }, 120_000);
});
