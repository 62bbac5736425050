import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { iniGet } from '../../src/inspect/configParser.js';
import { readTracIni } from '../../src/inspect/tracIni.js';
import { VENV } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * The same trac.ini files read by trac-deploy (readTracIni) and by Trac 1.6 itself
 * (trac.config.Configuration of the venv scripts/setup.sh installs): the answer to each
 * [section] option, or 'refused' when Trac cannot open the configuration.
 */
interface Case {
  name: string;
  /** Files of ENV/conf: trac.ini and the files it inherits. */
  files: Record<string, string>;
  ask: [section: string, option: string][];
  expected: (string | null)[] | 'refused';
}

const CASES: Case[] = [
  {
    name: '[inherit] file = a.ini, b.ini: the first file that has the option wins',
    files: {
      'trac.ini': '[inherit]\nfile = a.ini, b.ini\n',
      'a.ini': '[trac]\ndatabase = postgres://tracuser@db/trac\n',
      'b.ini': '[trac]\ndatabase = sqlite:db/trac.db\nbase_url = https://b.example.org/\n',
    },
    ask: [['trac', 'database'], ['trac', 'base_url']],
    expected: ['postgres://tracuser@db/trac', 'https://b.example.org/'],
  },
  {
    name: 'the environment\'s own trac.ini beats every inherited file',
    files: {
      'trac.ini': '[inherit]\nfile = a.ini\n[trac]\ndatabase = sqlite:db/trac.db\n',
      'a.ini': '[trac]\ndatabase = postgres://a/trac\n',
    },
    ask: [['trac', 'database']],
    expected: ['sqlite:db/trac.db'],
  },
  {
    name: 'nested: a.ini\'s own parent comes before the next file the environment names',
    files: {
      'trac.ini': '[inherit]\nfile = a.ini, b.ini\n',
      'a.ini': '[inherit]\nfile = c.ini\n[project]\nname = from a\n',
      'c.ini': '[trac]\ndatabase = postgres://c/trac\n[project]\nname = from c\n',
      'b.ini': '[trac]\ndatabase = postgres://b/trac\n',
    },
    ask: [['trac', 'database'], ['project', 'name']],
    expected: ['postgres://c/trac', 'from a'],
  },
  {
    name: '[inherit] plugins_dir and templates_dir follow the same order',
    files: {
      'trac.ini': '[inherit]\nfile = a.ini, b.ini\n',
      'a.ini': '[inherit]\nplugins_dir = /srv/a/plugins\n',
      'b.ini': '[inherit]\nplugins_dir = /srv/b/plugins\ntemplates_dir = /srv/b/templates\n',
    },
    ask: [['inherit', 'plugins_dir'], ['inherit', 'templates_dir']],
    expected: ['/srv/a/plugins', '/srv/b/templates'],
  },
  {
    name: '[DEFAULT] applies to every section of its file',
    files: { 'trac.ini': '[DEFAULT]\ndatabase = postgres://d/trac\n[trac]\nbase_url = https://x/\n[project]\nname = p\n' },
    ask: [['trac', 'database'], ['project', 'database'], ['trac', 'base_url']],
    expected: ['postgres://d/trac', 'postgres://d/trac', 'https://x/'],
  },
  {
    name: '[DEFAULT] gives way to the section\'s own option and does not make sections of its own',
    files: { 'trac.ini': '[DEFAULT]\ndatabase = postgres://d/trac\n[trac]\ndatabase = sqlite:db/trac.db\n' },
    ask: [['trac', 'database'], ['project', 'database']],
    expected: ['sqlite:db/trac.db', null],
  },
  {
    name: '[DEFAULT] covers only its own file\'s sections: an inherited [trac] still answers',
    files: {
      'trac.ini': '[DEFAULT]\ndatabase = postgres://own/trac\n[inherit]\nfile = a.ini\n',
      'a.ini': '[trac]\ndatabase = postgres://a/trac\n',
    },
    ask: [['trac', 'database']],
    expected: ['postgres://a/trac'],
  },
  {
    name: '[DEFAULT] may repeat',
    files: { 'trac.ini': '[DEFAULT]\nx = 1\n[DEFAULT]\ny = 2\n[a]\n' },
    ask: [['a', 'x'], ['a', 'y']],
    expected: ['1', '2'],
  },
  {
    name: 'an indented header outside a value is a header',
    files: { 'trac.ini': '[project]\nname = p\n\n# note\n[inherit]\n  [trac]\ndatabase = postgres://x/trac\n' },
    ask: [['trac', 'database'], ['project', 'name']],
    expected: ['postgres://x/trac', 'p'],
  },
  {
    name: 'an indented header after an option continues its value',
    files: { 'trac.ini': '[project]\nname = p\n [trac]\ndatabase = postgres://x/trac\n' },
    ask: [['trac', 'database'], ['project', 'name'], ['project', 'database']],
    expected: [null, 'p\n[trac]', 'postgres://x/trac'],
  },
  {
    name: 'a header runs to its last "]"',
    files: { 'trac.ini': '[a] b]\nx = 1\n' },
    ask: [['a', 'x'], ['a] b', 'x']],
    expected: [null, '1'],
  },
  { name: 'a section twice in one file', files: { 'trac.ini': '[trac]\nx = 1\n[project]\n[trac]\ny = 2\n' }, ask: [['trac', 'x']], expected: 'refused' },
  { name: 'an option twice in one section (names fold case)', files: { 'trac.ini': '[trac]\ndatabase = a\nDatabase = b\n' }, ask: [['trac', 'database']], expected: 'refused' },
  { name: 'an option twice in [DEFAULT]', files: { 'trac.ini': '[DEFAULT]\nx = 1\n[DEFAULT]\nx = 2\n' }, ask: [['a', 'x']], expected: 'refused' },
  {
    name: 'a duplicate in an inherited file',
    files: { 'trac.ini': '[inherit]\nfile = a.ini\n', 'a.ini': '[trac]\nx = 1\n[trac]\n' },
    ask: [['trac', 'x']],
    expected: 'refused',
  },
  { name: 'a UTF-8 byte order mark', files: { 'trac.ini': '\uFEFF[trac]\ndatabase = sqlite:db/trac.db\n' }, ask: [['trac', 'database']], expected: 'refused' },
  {
    name: 'a byte order mark in an inherited file',
    files: { 'trac.ini': '[inherit]\nfile = a.ini\n', 'a.ini': '\uFEFF[trac]\ndatabase = postgres://a/trac\n' },
    ask: [['trac', 'database']],
    expected: 'refused',
  },
  {
    name: '[inherit] file split at commas only: a line break keeps two names as one (no such file)',
    files: { 'trac.ini': '[inherit]\nfile = a.ini\n  b.ini\n', 'a.ini': '[trac]\ndatabase = postgres://a/trac\n', 'b.ini': '[trac]\nbase_url = https://b/\n' },
    ask: [['trac', 'database'], ['trac', 'base_url']],
    expected: [null, null],
  },
  {
    name: '[inherit] file: a missing file and an empty item are skipped',
    files: { 'trac.ini': '[inherit]\nfile = missing.ini, a.ini,\n', 'a.ini': '[trac]\ndatabase = postgres://a/trac\n' },
    ask: [['trac', 'database']],
    expected: ['postgres://a/trac'],
  },
  {
    name: 'an [inherit] cycle',
    files: { 'trac.ini': '[inherit]\nfile = a.ini\n', 'a.ini': '[inherit]\nfile = trac.ini\n[trac]\ndatabase = postgres://a/trac\n' },
    ask: [['trac', 'database']],
    expected: 'refused',
  },
  {
    name: 'Python strips \\x1c..\\x1f around values, and keeps U+FEFF inside a line',
    files: { 'trac.ini': '[a]\nx = 1\x1c\ny = \uFEFF2\n' },
    ask: [['a', 'x'], ['a', 'y']],
    expected: ['1', '\uFEFF2'],
  },
];

async function writeCase(root: string, c: Case): Promise<string> {
  const env = path.join(root, c.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60));
  await fs.mkdirp(path.join(env, 'conf'));
  for (const [name, text] of Object.entries(c.files)) await fs.writeFile(path.join(env, 'conf', name), text, 'utf8');
  return env;
}

/** trac-deploy's answers: refused when it reports an error Trac refuses the configuration for. */
function tracDeployAnswer(env: string, c: Case): (string | null)[] | 'refused' {
  const ini = readTracIni(env);
  if (ini.problems.some((p) => p.severity === 'error' && (p.code === 'trac-ini-syntax' || p.code === 'inherit-cycle'))) return 'refused';
  return c.ask.map(([section, option]) => iniGet(ini.sections, section, option) ?? null);
}

const TRAC_READS = `
import json, sys
from trac.config import Configuration, _use_default
sys.setrecursionlimit(200)
out = []
for env, ask in json.load(sys.stdin):
    try:
        config = Configuration(env + '/conf/trac.ini')
        values = [config[s].get(o, _use_default) for s, o in ask]
        out.append([None if v is _use_default else v for v in values])
    except Exception:
        out.append('refused')
print(json.dumps(out))
`;

const python = path.join(VENV, 'bin', 'python');

describe('trac.ini as Trac 1.6 reads it', () => {
  it('trac-deploy gives the expected answers', async () => {
    const root = await tempDir();
    for (const c of CASES) expect([c.name, tracDeployAnswer(await writeCase(root, c), c)]).toEqual([c.name, c.expected]);
  });

  it.skipIf(!fs.existsSync(python))('Trac itself gives the same answers', async () => {
    const root = await tempDir();
    const envs = [];
    for (const c of CASES) envs.push([await writeCase(root, c), c.ask]);
    const { stdout } = await execa(python, ['-c', TRAC_READS], { input: JSON.stringify(envs) });
    const answers = JSON.parse(stdout) as unknown[];
    CASES.forEach((c, i) => expect([c.name, answers[i]]).toEqual([c.name, c.expected]));
  }, 60_000);

  it('names the file and line of what Trac refuses, as an error', async () => {
    const root = await tempDir();
    const env = await writeCase(root, { name: 'dup', files: { 'trac.ini': '[inherit]\nfile = a.ini\n', 'a.ini': '[trac]\nx = 1\n\n[trac]\n' }, ask: [], expected: 'refused' });
    const problems = readTracIni(env).problems;
    expect(problems).toEqual([
      expect.objectContaining({ code: 'trac-ini-syntax', severity: 'error', path: path.join(env, 'conf', 'a.ini'), message: expect.stringContaining(`${path.join(env, 'conf', 'a.ini')}:4: section [trac] is defined again (first at line 1`) }),
    ]);
  });

  it('says why a name with a line break in [inherit] file is not read', async () => {
    const root = await tempDir();
    const env = await writeCase(root, { name: 'nl', files: { 'trac.ini': '[inherit]\nfile = a.ini\n  b.ini\n' }, ask: [], expected: [] });
    expect(readTracIni(env).problems).toEqual([expect.objectContaining({ code: 'inherit-unreadable', message: expect.stringContaining('splits [inherit] file at commas only') })]);
  });
});
