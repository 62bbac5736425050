import fs from 'fs-extra';
import path from 'node:path';
import { usageError } from '../errors.js';
import { apacheArg, apacheDirectory } from '../escape/apache.js';
import { renderTemplate } from '../render/engine.js';
import type { SmokeTarget } from './targets.js';

/**
 * Writes, into dir, a Hello World script and a copy of the target's Apache configuration that
 * serves it at the same mount point with the same mod_wsgi settings (mode, process group,
 * python-home, application group, access rules). Returns the configuration to include.
 */
export async function writeHelloConfig(target: SmokeTarget, dir: string): Promise<string> {
  await fs.mkdirp(dir);
  const script = path.join(dir, path.basename(target.script));
  const conf = path.join(dir, `${target.name}.conf`);
  await fs.writeFile(script, renderTemplate('wsgi/hello.wsgi.hbs', { name: target.name }), { mode: 0o644 });
  if (target.plan) {
    // The same plan, rendered by the same template, with only the script's place changed.
    const plan = { ...target.plan, files: { ...target.plan.files, outDir: dir, wsgi: script, apache: conf } };
    await fs.writeFile(conf, renderTemplate('apache/site.conf.hbs', plan));
  } else {
    await fs.writeFile(conf, swapScript(await fs.readFile(target.conf, 'utf8'), target.script, script));
  }
  return conf;
}

/**
 * A hand-made configuration: its WSGIScriptAlias script and <Directory> of the script's folder
 * point to the hello copy instead.
 */
export function swapScript(text: string, script: string, hello: string): string {
  const replacements: [string, string][] = [
    [apacheArg(script), apacheArg(hello)],
    [apacheDirectory(path.dirname(script)), apacheDirectory(path.dirname(hello))],
  ];
  let out = text;
  let swapped = false;
  for (const [from, to] of replacements) {
    if (out.includes(from)) swapped = true;
    out = out.split(from).join(to);
    // Unquoted forms, as people write them by hand.
    const bare = from.slice(1, -1);
    out = out.replace(new RegExp(`(\\s)${escapeRegExp(bare)}(?=[\\s>])`, 'g'), `$1${to}`);
  }
  if (!swapped && !out.includes(hello)) {
    throw usageError(`cannot find the script ${script} in the configuration to swap in Hello World; regenerate it with trac-deploy generate`);
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
