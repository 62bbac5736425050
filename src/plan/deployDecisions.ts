import { statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { validKey } from './chromeKey.js';
import type { GenerateOptions } from './options.js';
import { isWithin, resolvesWithin } from './validate.js';

/**
 * deploy's decisions, taken from what the environment's own Python answered (the shape of
 * src/python/htdocsDirs.ts's answer; structural, so plan does not import the layer above).
 */
export interface PythonAnswer {
  python: { executable: string; prefix: string; basePrefix: string; sitePackages: string[] };
  trac: { version: string; package: string };
  providers: { name: string; dirs: [string, string][] }[];
}

/** One static directory to publish as htdocs/<key>, in Trac's provider order. */
export interface StaticSource {
  key: string;
  dir: string;
}

/** One provider as trac-admin deploy lists it, with what becomes of each of its directories. */
export interface ProviderReport {
  name: string;
  /** notCopied: why an existing directory was not copied (absent: it was, or it is missing). */
  dirs: { key: string; dir: string; copied: boolean; notCopied?: string }[];
}

/**
 * Trac's (key, dir) pairs in provider order. Empty dirs are skipped and missing ones listed but
 * not copied, as trac-admin does; a target equal to or below its source is refused, as it is;
 * a key that is not one URL path segment is refused (Trac could not serve it).
 */
export function staticSources(answer: PythonAnswer, htdocs: string): { sources: StaticSource[]; providers: ProviderReport[] } {
  const sources: StaticSource[] = [];
  const providers: ProviderReport[] = [];
  for (const provider of answer.providers) {
    if (provider.dirs.length === 0) continue;
    const report: ProviderReport = { name: provider.name, dirs: [] };
    for (const [key, root] of provider.dirs) {
      if (!root) continue;
      if (!validKey(key)) {
        throw usageError(`${provider.name} names the static directory ${JSON.stringify(key)}, which is not one URL path segment; Trac cannot serve it and trac-deploy will not copy it`);
      }
      const dir = path.normalize(root);
      // Synchronous on purpose: a handful of stats, reported in Trac's order.
      const exists = Boolean(statSync(dir, { throwIfNoEntry: false })?.isDirectory());
      const dest = path.join(htdocs, key);
      if (exists && resolvesWithin(dest, dir)) {
        throw usageError(`${dest} is equal to or below the source directory ${dir}; resources cannot be deployed there. Choose a different TARGET`);
      }
      if (exists) sources.push({ key, dir });
      report.dirs.push({ key, dir, copied: exists });
    }
    providers.push(report);
  }
  return { sources, providers };
}

/**
 * Without --python-home, the Python that answered decides: a virtualenv becomes the daemon's
 * python-home, and a Trac outside that Python's site-packages becomes a --site-dir.
 */
export function pythonOptions(given: GenerateOptions, answer: PythonAnswer): { options: GenerateOptions; notes: string[] } {
  const notes: string[] = [];
  const options: GenerateOptions = { ...given, siteDir: [...given.siteDir] };
  const { python } = answer;
  const isVenv = python.prefix !== python.basePrefix;
  if (!given.pythonHome && isVenv) {
    options.pythonHome = python.prefix;
    notes.push(`python-home ${python.prefix}: the virtualenv of ${python.executable}, which has Trac ${answer.trac.version}`);
  }
  const tracParent = path.dirname(answer.trac.package);
  const known = [...python.sitePackages, ...options.siteDir];
  if (!known.includes(tracParent) && !(options.pythonHome && isWithin(tracParent, options.pythonHome))) {
    options.siteDir.push(tracParent);
    notes.push(`site dir ${tracParent}: Trac is installed there, outside ${python.executable}'s site-packages`);
  }
  return { options, notes };
}
