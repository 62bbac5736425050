import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { HtdocsAnswer } from './htdocsDirs.js';

/**
 * Asking the environment's Python costs about 0.3 s (Trac loads every component). Its answer
 * only changes when what Trac reads to make it changes, so deploy keeps it beside the files it
 * wrote, with a fingerprint of those inputs: trac.ini and the files it inherits, the plugins
 * directories and their entries, the interpreter, and its site-packages directories (whose
 * mtime changes when anything is installed or removed). Any difference means asking again.
 */
export interface CachedAnswer {
  /** Who was asked, about what. */
  question: { python: string; envPath: string; pathEnv: string };
  /** The paths fingerprinted; directories listed in `dirsWithEntries` count their entries too. */
  paths: string[];
  dirsWithEntries: string[];
  fingerprint: string;
  answer: HtdocsAnswer;
}

/** The files and directories whose change can change the answer. */
export function inputsOf(envPath: string, answer: HtdocsAnswer, extra: { inheritFiles: string[]; pluginsDirs: string[] }): { paths: string[]; dirsWithEntries: string[] } {
  const dirsWithEntries = [path.join(envPath, 'plugins'), ...extra.pluginsDirs];
  const paths = [
    path.join(envPath, 'VERSION'),
    path.join(envPath, 'conf', 'trac.ini'),
    ...extra.inheritFiles,
    answer.python.executable,
    ...answer.python.sitePackages,
    answer.trac.package,
    ...dirsWithEntries,
  ];
  return { paths: [...new Set(paths)], dirsWithEntries: [...new Set(dirsWithEntries)] };
}

export async function fingerprint(paths: string[], dirsWithEntries: string[]): Promise<string> {
  const hash = createHash('sha1');
  const withEntries = new Set(dirsWithEntries);
  const stamps = await Promise.all(
    paths.map(async (p) => {
      const lines = [stamp(p, await fs.stat(p).catch(() => null))];
      if (withEntries.has(p)) {
        const names = await fs.readdir(p).catch(() => [] as string[]);
        for (const name of names.sort()) lines.push(stamp(path.join(p, name), await fs.stat(path.join(p, name)).catch(() => null)));
      }
      return lines.join('\n');
    }),
  );
  for (const s of stamps) hash.update(s + '\n');
  return hash.digest('hex');
}

function stamp(p: string, stat: import('node:fs').Stats | null): string {
  return stat ? `${p}\t${stat.ino}\t${stat.size}\t${stat.mtimeMs}\t${stat.ctimeMs}` : `${p}\tmissing`;
}

/** The cached answer when it was given to the same question and nothing it depends on changed. */
export async function reusableAnswer(cached: CachedAnswer | null | undefined, question: CachedAnswer['question']): Promise<HtdocsAnswer | null> {
  if (!cached || !cached.answer || !Array.isArray(cached.paths)) return null;
  const q = cached.question;
  if (!q || q.python !== question.python || q.envPath !== question.envPath || q.pathEnv !== question.pathEnv) return null;
  const now = await fingerprint(cached.paths, cached.dirsWithEntries ?? []);
  return now === cached.fingerprint ? cached.answer : null;
}
