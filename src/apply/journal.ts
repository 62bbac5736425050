import fs from 'fs-extra';
import path from 'node:path';
import { writeAtomic } from '../write/writeFiles.js';
import { putState, readState, type PathState } from './pathState.js';

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
  const content = await fs.readFile(stored.backup, 'utf8');
  return { type: 'file', content, mode: stored.mode, ...(stored.uid !== undefined ? { uid: stored.uid, gid: stored.gid } : {}) };
}

export async function saveJournal(stateDir: string, journal: Journal): Promise<void> {
  await writeAtomic(path.join(transactionsDir(stateDir), journal.id, 'journal.json'), JSON.stringify(journal, null, 2) + '\n', 0o600);
}

/** Every journal, oldest first (ids sort by time). */
export async function listJournals(stateDir: string): Promise<Journal[]> {
  const dir = transactionsDir(stateDir);
  const ids = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  const journals: Journal[] = [];
  for (const id of ids) {
    const text = await fs.readFile(path.join(dir, id, 'journal.json'), 'utf8').catch(() => null);
    if (text === null) continue;
    try {
      journals.push(JSON.parse(text) as Journal);
    } catch {
      // a journal cut short by a crash before it was complete: nothing was touched yet
    }
  }
  return journals;
}

/** Put every path of the journal back as it was before, last entry first. */
export async function restoreBefore(journal: Journal): Promise<void> {
  for (const entry of [...journal.entries].reverse()) {
    await putState(entry.path, await loadState(entry.before));
  }
}

/** Whether a path still holds what the journal says this transaction put there. */
export async function holdsAfter(entry: JournalEntry): Promise<boolean> {
  const now = await readState(entry.path);
  const after = entry.after;
  if (now.type !== after.type) return false;
  if (now.type === 'symlink' && after.type === 'symlink') return now.target === after.target;
  if (now.type === 'file' && after.type === 'file') return now.content === (await fs.readFile(after.backup, 'utf8'));
  return true;
}
