import fs from 'node:fs/promises';
import path from 'node:path';
import { checkEnvironment, inspectEnvironment } from './environment.js';
import { TracIniUnreadable } from './tracIni.js';
import type { EnvironmentInfo, Inspection, Problem } from './types.js';

export interface CandidateOutcome {
  environment?: EnvironmentInfo;
  skipped?: Inspection['skipped'][number];
  problem?: Problem;
}

export interface Matcher {
  pattern: string;
  regexp: RegExp;
}

/**
 * One entry of a parent directory, judged as Trac's project index would. `isDir` is what the
 * directory listing already said (undefined for a symbolic link, which is followed, as
 * os.path.isdir does).
 */
export async function inspectCandidate(root: string, name: string, matchers: readonly Matcher[], isDir?: boolean): Promise<CandidateOutcome> {
  const dir = path.join(root, name);
  if (!(isDir ?? (await fs.stat(dir).then((s) => s.isDirectory(), () => false)))) return {};
  const ignored = matchers.find((m) => m.regexp.test(name));
  if (ignored) return { skipped: { name, reason: `matches .tracignore pattern "${ignored.pattern}"` } };
  const check = checkEnvironment(dir);
  if (!check.isEnvironment) {
    return {
      skipped: { name, reason: 'not a Trac environment' },
      problem: {
        code: 'not-an-environment',
        severity: 'warning',
        message: `${dir} is not a Trac environment but Trac's project index will try to open it; add "${name}" to ${path.join(root, '.tracignore')}`,
        path: dir,
      },
    };
  }
  try {
    return { environment: await inspectEnvironment(dir, check.formatVersion) };
  } catch (error) {
    if (!(error instanceof TracIniUnreadable)) throw error;
    return { problem: { code: 'trac-ini-unreadable', severity: 'error', message: error.message, path: error.file } };
  }
}
