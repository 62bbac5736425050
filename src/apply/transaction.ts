import fs from 'fs-extra';
import path from 'node:path';
import { jobFailed, messageOf, UserError } from '../errors.js';
import { InterruptGuard, Interrupted } from './interrupt.js';
import { listJournals, newId, restoreBefore, saveJournal, storeState, transactionsDir, type Journal } from './journal.js';
import { takeLock } from './lock.js';
import { putState, readState, sameState, type PathState } from './pathState.js';
import { invalidCommandHint } from '../apache/moduleHint.js';
import { configTest, gracefulReload, processAlive, runConfig, runningPid, type ApacheTarget } from './target.js';

export interface Change {
  path: string;
  after: PathState;
}

export interface TransactionResult {
  journal: Journal | null;
  /** Interrupted runs found and undone before this one. */
  recovered: string[];
  /** pid of the server that was reloaded, or null when Apache was not running. */
  reloadedPid: number | null;
}

export interface TransactionOptions {
  target: ApacheTarget;
  kind: Journal['kind'];
  source: string;
  /** Computed once the lock is held, so it sees the configuration after any recovery. */
  changes: (recovered: string[]) => Promise<Change[]>;
  log: (line: string) => void;
  reload: boolean;
  /** Called after a successful commit (rollback marks the apply it undid). */
  onCommit?: (journal: Journal) => Promise<void>;
}

const KEEP_TRANSACTIONS = 20;

/**
 * certbot's discipline for one change to Apache's configuration: lock; undo any run that was
 * killed midway; configtest before touching anything; journal every path with a backup of
 * what it held; install; configtest again; graceful reload. Any failure or signal after the
 * journal is written puts every path back and, if the server had been reloaded, reloads it
 * again, so Apache keeps serving the previous configuration.
 */
export async function runTransaction(options: TransactionOptions): Promise<TransactionResult> {
  const { target, log } = options;
  const guard = new InterruptGuard();
  const pause = (step: string) => guard.pauseAt(step, log);
  let lock: Awaited<ReturnType<typeof takeLock>> | null = null;
  try {
    lock = await takeLock(target.stateDir);
    if (lock.staleFrom) log(`trac-deploy: took over the lock of an earlier run (pid ${lock.staleFrom}) that is no longer running`);
    await pause('locked');
    const recovered = await recoverInterrupted(target, log);

    const before = await configTest(target);
    if (!before.ok) {
      throw jobFailed(
        `Apache's current configuration in ${target.root} fails its configuration test; nothing was changed. Fix it first:`,
        ...before.output.split('\n'),
      );
    }
    guard.check();
    await pause('pretest');

    const changes = await options.changes(recovered);
    const journal: Journal = {
      id: newId(),
      kind: options.kind,
      status: 'in-progress',
      pid: process.pid,
      started: new Date().toISOString(),
      source: options.source,
      reloaded: false,
      entries: [],
    };
    const dir = path.join(transactionsDir(target.stateDir), journal.id);
    for (const [index, change] of changes.entries()) {
      const current = await readState(change.path);
      if (sameState(current, change.after)) continue;
      journal.entries.push({
        path: change.path,
        before: await storeState(dir, `before-${index}`, current),
        after: await storeState(dir, `after-${index}`, change.after),
      });
    }
    if (journal.entries.length === 0) {
      return { journal: null, recovered, reloadedPid: null };
    }
    guard.check();
    await saveJournal(target.stateDir, journal);
    await pause('journaled');

    try {
      for (const entry of journal.entries) {
        const change = changes.find((c) => c.path === entry.path);
        if (change) await putState(change.path, change.after);
        guard.check();
      }
      await pause('installed');
      const after = await configTest(target);
      if (!after.ok) {
        throw jobFailed(
          `the new configuration fails Apache's configuration test; every file was restored and Apache keeps its previous configuration:`,
          ...after.output.split('\n'),
          ...[invalidCommandHint(after.output, target.family)].filter((h): h is string => h !== null),
        );
      }
      guard.check();
      await pause('tested');
      let reloadedPid: number | null = null;
      if (options.reload) {
        reloadedPid = await reloadIfRunning(target, log, journal);
        guard.check();
        await pause('reloaded');
      }
      journal.status = 'applied';
      await saveJournal(target.stateDir, journal);
      await options.onCommit?.(journal);
      await prune(target.stateDir);
      return { journal, recovered, reloadedPid };
    } catch (error) {
      await undo(target, journal, log);
      if (error instanceof Interrupted) {
        throw jobFailed(`${error.message} during ${options.kind}; every file was restored and Apache keeps its previous configuration`);
      }
      if (error instanceof UserError) throw error;
      throw jobFailed(`${options.kind} failed (${messageOf(error)}); every file was restored and Apache keeps its previous configuration`);
    }
  } finally {
    await lock?.release();
    guard.dispose();
  }
}

/** Put a journal's paths back; reload again if the server had already taken the new config. */
async function undo(target: ApacheTarget, journal: Journal, log: (line: string) => void): Promise<void> {
  await restoreBefore(journal);
  if (journal.reloaded) {
    const result = await gracefulReload(target);
    if (!result.ok) log(`trac-deploy: reloading the restored configuration failed: ${result.output}`);
  }
  journal.status = 'rolled-back';
  await saveJournal(target.stateDir, journal);
}

async function recoverInterrupted(target: ApacheTarget, log: (line: string) => void): Promise<string[]> {
  const recovered: string[] = [];
  for (const journal of await listJournals(target.stateDir)) {
    if (journal.status !== 'in-progress') continue;
    log(`trac-deploy: undoing the ${journal.kind} ${journal.id} (pid ${journal.pid}) that was interrupted midway`);
    await undo(target, journal, log);
    recovered.push(journal.id);
  }
  return recovered;
}

/**
 * Graceful reload when the server runs: workers finish their requests and the parent re-reads
 * the configuration. The parent must still be alive afterwards.
 */
async function reloadIfRunning(target: ApacheTarget, log: (line: string) => void, journal: Journal): Promise<number | null> {
  const { pidFile } = await runConfig(target);
  const pid = await runningPid(pidFile);
  if (pid === null) {
    log(`trac-deploy: note: Apache (${target.root}) is not running; the configuration is installed and takes effect when it starts`);
    return null;
  }
  journal.reloaded = true;
  await saveJournal(target.stateDir, journal);
  const result = await gracefulReload(target);
  if (!result.ok) throw jobFailed(`graceful reload of Apache failed: ${result.output.split('\n')[0] ?? ''}`);
  await new Promise((r) => setTimeout(r, 300));
  // A parent that died on the new configuration is started again by the graceful reload
  // of the restored one (httpd -k graceful starts a server that is not running).
  if (!processAlive(pid)) throw jobFailed('Apache stopped after the graceful reload');
  return pid;
}

async function prune(stateDir: string): Promise<void> {
  const dir = transactionsDir(stateDir);
  const ids = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  for (const id of ids.slice(0, Math.max(0, ids.length - KEEP_TRANSACTIONS))) await fs.remove(path.join(dir, id));
}
