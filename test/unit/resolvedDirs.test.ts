import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticSources } from '../../src/plan/deployDecisions.js';
import { resolvedPath, validateHtdocsDir, validateOutDir } from '../../src/plan/validate.js';
import type { PythonAnswer } from '../../src/plan/deployDecisions.js';
import { tempDir } from '../helpers/tempDir.js';

/** Directory rules compare where paths lead (every component resolved), not the text typed. */
async function bed() {
  const root = await tempDir();
  const env = path.join(root, 'env');
  for (const d of ['conf', 'db', 'htdocs', 'log']) await fs.mkdirp(path.join(env, d));
  const links = path.join(root, 'links');
  await fs.mkdirp(links);
  await fs.symlink(path.join(env, 'htdocs'), path.join(links, 'to-htdocs'));
  await fs.symlink(path.join(env, 'conf'), path.join(links, 'to-conf'));
  await fs.symlink(env, path.join(links, 'to-env'));
  await fs.symlink(root, path.join(links, 'to-root'));
  return { root, env, links };
}

describe('resolvedPath', () => {
  it('resolves every existing component and keeps the missing tail', async () => {
    const { env, links } = await bed();
    const realEnv = await fs.realpath(env);
    expect(resolvedPath(path.join(links, 'to-htdocs', 'not', 'yet'))).toBe(path.join(realEnv, 'htdocs', 'not', 'yet'));
    expect(resolvedPath(path.join(links, 'to-root', 'env', 'conf', '..', 'db'))).toBe(path.join(realEnv, 'db'));
  });
});

describe('directory rules through links', () => {
  it('refuses --out, TARGET and --htdocs that reach an environment or its private dirs through a link', async () => {
    const { env, links } = await bed();
    const cases: [() => unknown, RegExp][] = [
      [() => validateOutDir(path.join(links, 'to-htdocs', 'deploy'), [env], null, 'TARGET'), /TARGET .*to-htdocs\/deploy \(which resolves to .*env\/htdocs\/deploy\) is inside .*env\/htdocs/],
      [() => validateOutDir(path.join(links, 'to-conf'), [env], null), /--out .* is inside .*env\/conf/],
      [() => validateOutDir(path.join(links, 'to-root', 'env', 'log', 'x'), [env], null), /is inside .*env\/log/],
      [() => validateHtdocsDir(path.join(links, 'to-env'), [env], null), /--htdocs .* contains the Trac environment/],
      [() => validateHtdocsDir(path.join(links, 'to-conf'), [env], null), /--htdocs .* is inside .*env\/conf/],
      [() => validateOutDir(path.join(links, 'to-root'), [env], null), /contains the Trac environment/],
    ];
    for (const [run, message] of cases) expect(run).toThrow(message);
    // a directory beside the environment, reached through a link, is fine
    expect(validateOutDir(path.join(links, 'to-root', 'deploy'), [env], null)).toBe(path.join(links, 'to-root', 'deploy'));
  });

  it('refuses a deploy TARGET whose htdocs/<key> resolves at or below a source directory', async () => {
    const { env, links } = await bed();
    const answer = { providers: [{ name: 'trac.web.chrome.Chrome', dirs: [['site', path.join(env, 'htdocs')]] }] } as unknown as PythonAnswer;
    expect(() => staticSources(answer, path.join(links, 'to-htdocs', 'htdocs'))).toThrow(/is equal to or below the source directory/);
  });
});
