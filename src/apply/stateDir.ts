import fs from 'fs-extra';
import path from 'node:path';
import { UserError, usageError } from '../errors.js';
import type { Journal, StoredState } from './journal.js';
import type { ApacheTarget } from './target.js';

/**
 * apply runs as root and acts on what its state directory holds (journals name paths to
 * restore and backups to restore them from). Whoever can write there can make root write
 * anywhere, so the directory, and every directory above it, must be owned by root (or by the
 * user running apply) and writable by no one else; a sticky directory such as /tmp is accepted
 * above it, since no one else can rename or remove what root made there.
 */
export async function prepareStateDir(stateDir: string): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  try {
    const stat = await fs.lstat(stateDir).catch(() => null);
    if (!stat) {
      await fs.mkdirp(path.dirname(stateDir));
      await fs.mkdir(stateDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } else if (stat.isSymbolicLink()) {
      throw usageError(`the state directory ${stateDir} is a symbolic link; give the real directory with --state-dir`);
    }
  } catch (error) {
    throw stateDirError(error, stateDir);
  }
  let dir = await fs.realpath(stateDir);
  for (let first = true; ; first = false) {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw usageError(`the state directory ${stateDir}: ${dir} is not a directory`);
    const ownerOk = stat.uid === uid || stat.uid === 0;
    const sticky = (stat.mode & 0o1000) !== 0;
    const writableByOthers = (stat.mode & 0o022) !== 0 && !(sticky && !first);
    if (!ownerOk || writableByOthers) {
      throw usageError(
        `the state directory ${stateDir} cannot be trusted: ${dir} is ${!ownerOk ? `owned by uid ${stat.uid}` : `writable by ${stat.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(stat.mode & 0o7777).toString(8)})`}; apply keeps its journals and backups there and acts on them as ${uid === 0 ? 'root' : `uid ${uid}`}`,
        `chown root:root ${dir} && chmod go-w ${dir}, or name another directory with --state-dir`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
}

/**
 * A journal names only paths apply may change (the snippet, site and link directories of this
 * Apache) and backups inside its own transaction directory. Anything else was not written by
 * apply: it is refused, and nothing it names is touched.
 */
export function checkJournal(journal: Journal, target: ApacheTarget, transactionDir: string): void {
  const allowed = [...new Set([target.installDir, target.siteInstallDir, ...[target.enabledDir, target.siteEnabledDir].filter((d): d is string => d !== null)])];
  const refuse = (what: string) =>
    usageError(`the journal ${path.join(transactionDir, 'journal.json')} ${what}; apply did not write it and will not act on it. Move it out of ${path.dirname(transactionDir)}`);
  if (!/^[0-9A-Za-z-]+$/.test(journal.id ?? '') || path.basename(transactionDir) !== journal.id) throw refuse('has an id that is not its directory name');
  for (const entry of journal.entries ?? []) {
    if (typeof entry.path !== 'string' || !allowed.includes(path.dirname(entry.path)) || path.basename(entry.path).startsWith('.') || path.normalize(entry.path) !== entry.path) {
      throw refuse(`names ${JSON.stringify(entry.path)}, outside ${allowed.join(' and ')}`);
    }
    for (const stored of [entry.before, entry.after] as StoredState[]) {
      if (stored.type === 'file' && (typeof stored.backup !== 'string' || path.dirname(stored.backup) !== transactionDir)) {
        throw refuse(`names the backup ${JSON.stringify(stored.backup)}, outside its own directory`);
      }
    }
  }
}

/** What the disk said when the state directory could not be written, in one sentence. */
export function stateDirError(error: unknown, stateDir: string): Error {
  if (error instanceof UserError) return error;
  const { code, path: where } = error as NodeJS.ErrnoException;
  if (where && path.relative(stateDir, path.resolve(where)).startsWith('..')) return error as Error;
  const reasons: Record<string, string> = {
    ENOSPC: 'the file system is full',
    EDQUOT: 'the disk quota is exceeded',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
  };
  const reason = code ? reasons[code] : undefined;
  if (!reason) return error as Error;
  return new UserError(`cannot write the state directory ${stateDir} (${reason}); nothing was changed. Free space or make it writable, or name another with --state-dir`, 1);
}
