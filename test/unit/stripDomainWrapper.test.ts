import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/render/renderPlan.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { sampleAuth, samplePlan } from '../helpers/samplePlan.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * The REMOTE_USER wrapper of the generated .wsgi script, run in the real /usr/bin/python3 (the
 * interpreter mod_wsgi embeds): the script is executed as mod_wsgi would, with only
 * trac.web.main replaced by a recorder, and its application() is called with the REMOTE_USER
 * values domain, Kerberos and plain logins produce. ABSENT stands for "no REMOTE_USER key".
 */
const ABSENT = '<absent>';

const HARNESS = `
import json, sys, types
seen = []
def dispatch_request(environ, start_response):
    seen.append(environ['REMOTE_USER'] if 'REMOTE_USER' in environ else ${JSON.stringify(ABSENT)})
    return [b'']
trac = types.ModuleType('trac'); web = types.ModuleType('trac.web'); main = types.ModuleType('trac.web.main')
main.dispatch_request = dispatch_request; web.main = main; trac.web = web
sys.modules.update({'trac': trac, 'trac.web': web, 'trac.web.main': main})
script = sys.argv[1]
namespace = {'__name__': '_mod_wsgi_script', '__file__': script}
exec(compile(open(script, 'rb').read(), script, 'exec'), namespace)
for value in json.loads(sys.argv[2]):
    environ = {} if value == ${JSON.stringify(ABSENT)} else {'REMOTE_USER': value}
    namespace['application'](environ, lambda status, headers: None)
sys.stdout.write(json.dumps(seen))
`;

async function runWrapper(stripDomain: boolean, stripRealm: boolean, inputs: string[]): Promise<string[]> {
  const plan = samplePlan({ auth: sampleAuth({ stripDomain, stripRealm }) });
  const wsgi = renderPlan(plan).find((f) => f.kind === 'wsgi');
  if (!wsgi) throw new Error('no wsgi file rendered');
  const file = path.join(await tempDir(), 'trac.wsgi');
  await fs.writeFile(file, wsgi.content);
  const result = await execa(SYSTEM_PYTHON, ['-c', HARNESS, file, JSON.stringify(inputs)], { stdin: 'ignore', reject: false });
  if (result.exitCode !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

/** [REMOTE_USER in, --strip-domain out, --strip-realm out, both out] */
const TABLE: [string, string, string, string][] = [
  ['CORP\\alice', 'alice', 'CORP\\alice', 'alice'],
  ['alice@CORP.EXAMPLE.COM', 'alice@CORP.EXAMPLE.COM', 'alice', 'alice'],
  ['CORP\\alice@CORP.EXAMPLE.COM', 'alice@CORP.EXAMPLE.COM', 'CORP\\alice', 'alice'],
  ['alice', 'alice', 'alice', 'alice'],
  ['', '', '', ''],
  [ABSENT, ABSENT, ABSENT, ABSENT],
  ['CORP\\', 'CORP\\', 'CORP\\', 'CORP\\'],
  ['@CORP.EXAMPLE.COM', '@CORP.EXAMPLE.COM', '@CORP.EXAMPLE.COM', '@CORP.EXAMPLE.COM'],
  ['EU\\CORP\\alice', 'alice', 'EU\\CORP\\alice', 'alice'],
  ['\\\\alice', 'alice', '\\\\alice', 'alice'],
  ['alice@corp.example.com@CORP.EXAMPLE.COM', 'alice@corp.example.com@CORP.EXAMPLE.COM', 'alice@corp.example.com', 'alice@corp.example.com'],
  ['CORP\\jürgen', 'jürgen', 'CORP\\jürgen', 'jürgen'],
  ['anonymous', 'anonymous', 'anonymous', 'anonymous'],
];

describe('the REMOTE_USER wrapper in real Python', () => {
  const inputs = TABLE.map((row) => row[0]);
  it.each([
    ['--strip-domain', true, false, 1],
    ['--strip-realm', false, true, 2],
    ['--strip-domain --strip-realm', true, true, 3],
  ] as const)('%s', async (_flags, stripDomain, stripRealm, column) => {
    const seen = await runWrapper(stripDomain, stripRealm, inputs);
    expect(seen).toEqual(TABLE.map((row) => row[column]));
  });

  it('without either flag the script has no wrapper and passes names through', async () => {
    const plan = samplePlan();
    const content = renderPlan(plan).find((f) => f.kind === 'wsgi')?.content ?? '';
    expect(content).not.toContain('_strip_domain');
    expect(await runWrapper(false, false, inputs)).toEqual(inputs);
  });
});
