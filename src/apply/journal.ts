import fs from 'fs-extra';
import path from 'node:path';
import { writeAtomic } from '../write/writeFiles.js';
import { putState, readState, sameState, type PathState } from './pathState.js';
import { checkJournal } from './stateDir.js';
import type { ApacheTarget } from './target.js';

/**
 * The record of one change to Apache's configuration, written before anything is touched: for
 * every path, what it held before (files are copied into the transaction's directory) and
 * what it is to hold. A run that dies midway leaves status "in-progress"; the next run finds
 * it and puts every `before` back.
 */
export interface Journal {
  id: string;
  kind: 'apply' | 'rollback';
  status: 'in-progress' | 'applied' | 'rolled-back';
  pid: number;
  started: string;
  /** Directory of the files that were applied (apply), or the id undone (rollback). */
  source: string;
  /** Whether Apache was gracefully reloaded with the new configuration. */
  reloaded: boolean;
  /** The pid of the running server when the run began (null: Apache was not running). */
  serverPid?: number | null;
  entries: JournalEntry[];
}

export interface JournalEntry {
  path: string;
  before: StoredState;
  after: StoredState;
}

/** A PathState whose file content lives in a backup file instead of the journal. */
export type StoredState =
  | { type: 'absent' }
  | { type: 'file'; backup: string; mode: number; uid?: number; gid?: number }
  | { type: 'symlink'; target: string };

export function transactionsDir(stateDir: string): string {
  return path.join(stateDir, 'transactions');
}

export function newId(): string {
  return new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-') + `-${process.pid}`;
}

export async function storeState(dir: string, name: string, state: PathState): Promise<StoredState> {
  if (state.type !== 'file') return state;
  const backup = path.join(dir, name);
  await writeAtomic(backup, state.content, 0o600);
  return { type: 'file', backup, mode: state.mode, ...(state.uid !== undefined ? { uid: state.uid, gid: state.gid } : {}) };
}

export async function loadState(stored: StoredState): Promise<PathState> {
  if (stored.type !== 'file') return stored;
  const content = await fs.readFile(stored.backup);
  return { type: 'file', content, mode: stored.mode, ...(stored.uid !== undefined ? { uid: stored.uid, gid: stored.gid } : {}) };
}

export async function saveJournal(stateDir: string, journal: Journal): Promise<void> {
  await writeAtomic(path.join(transactionsDir(stateDir), journal.id, 'journal.json'), JSON.stringify(journal, null, 2) + '\n', 0o600);
}

/**
 * Every journal, oldest first (ids sort by time), each checked to name only paths of this
 * Apache and backups in its own directory (see checkJournal).
 */
export async function listJournals(target: ApacheTarget): Promise<Journal[]> {
  const dir = transactionsDir(target.stateDir);
  const ids = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  const journals: Journal[] = [];
  for (const id of ids) {
    const text = await fs.readFile(path.join(dir, id, 'journal.json'), 'utf8').catch(() => null);
    if (text === null) continue;
    let journal: Journal;
    try {
      journal = JSON.parse(text) as Journal;
    } catch {
      // a journal cut short by a crash before it was complete: nothing was touched yet
      continue;
    }
    checkJournal(journal, target, path.join(dir, id));
    journals.push(journal);
  }
  return journals;
}

/** Put every path of the journal back as it was before, last entry first. */
export async function restoreBefore(journal: Journal): Promise<void> {
  for (const entry of [...journal.entries].reverse()) {
    const before = await loadState(entry.before);
    // Already as it was (the run died before reaching it): left alone, nothing rewritten.
    if (sameState(await readState(entry.path), before)) continue;
    await putState(entry.path, before);
  }
}

/** Whether a path still holds what the journal says this transaction put there. */
export async function holdsAfter(entry: JournalEntry): Promise<boolean> {
  const now = await readState(entry.path);
  const after = entry.after;
  if (now.type !== after.type) return false;
  if (now.type === 'symlink' && after.type === 'symlink') return now.target === after.target;
  if (now.type === 'file' && after.type === 'file') return now.content.equals(await fs.readFile(after.backup));
  return true;
}
