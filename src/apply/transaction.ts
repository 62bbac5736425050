import fs from 'fs-extra';
import path from 'node:path';
import { jobFailed, messageOf, UserError } from '../errors.js';
import { InterruptGuard, Interrupted } from './interrupt.js';
import { listJournals, newId, restoreBefore, saveJournal, storeState, transactionsDir, type Journal } from './journal.js';
import { takeLock } from './lock.js';
import { putState, readState, sameState, type PathState } from './pathState.js';
import { invalidCommandHint } from '../apache/moduleHint.js';
import { answered, childrenOf, describe, listenAddresses, mountAnswered, mountedPaths, probe, probesFor, sleep, type Answer, type MountCheck } from './serverCheck.js';
import { prepareStateDir, stateDirError } from './stateDir.js';
import { configTest, ctl, gracefulReload, processAlive, runConfig, runningPid, type ApacheTarget } from './target.js';

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
  /** What was checked after the reload: one line per URL (or "skipped: why"). */
  verified: string[];
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
  /** Mount points the change makes (path, site name, ports): each must answer over HTTP after the reload. */
  mounts?: MountCheck[];
  /** When Apache is found stopped: start it (rollback of an apply made while it ran). */
  startIfStopped?: () => boolean;
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
    await prepareStateDir(target.stateDir);
    lock = await takeLock(target.stateDir).catch((error: unknown) => {
      throw stateDirError(error, target.stateDir);
    });
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
    const { pidFile } = await runConfig(target);
    const journal: Journal = {
      id: newId(),
      kind: options.kind,
      status: 'in-progress',
      pid: process.pid,
      started: new Date().toISOString(),
      source: options.source,
      reloaded: false,
      serverPid: await runningPid(pidFile),
      entries: [],
    };
    const dir = path.join(transactionsDir(target.stateDir), journal.id);
    try {
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
        await fs.remove(dir);
        return { journal: null, recovered, reloadedPid: null, verified: [] };
      }
      guard.check();
      await saveJournal(target.stateDir, journal);
    } catch (error) {
      // Nothing installed yet: the backups made so far go, the configuration is untouched.
      await fs.remove(dir).catch(() => undefined);
      throw stateDirError(error, target.stateDir);
    }
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
      const verified: string[] = [];
      if (options.reload) {
        reloadedPid = await reloadAndVerify(target, log, journal, options, verified, guard);
        guard.check();
        await pause('reloaded');
      }
      journal.status = 'applied';
      await saveJournal(target.stateDir, journal);
      await options.onCommit?.(journal);
      await prune(target.stateDir);
      return { journal, recovered, reloadedPid, verified };
    } catch (error) {
      await undo(target, journal, log);
      if (error instanceof Interrupted) {
        throw jobFailed(`${error.message} during ${options.kind}; every file was restored and Apache keeps its previous configuration`);
      }
      if (error instanceof UserError) {
        if (/restored/.test(error.message)) throw error;
        throw new UserError(`${error.message}; every file was restored and Apache was brought back to its previous configuration`, error.exitCode, error.advice);
      }
      const mapped = stateDirError(error, target.stateDir);
      const reason = mapped instanceof UserError ? mapped.message.replace(/; nothing was changed.*$/, '') : messageOf(error);
      throw jobFailed(`${options.kind} failed (${reason}); every file was restored and Apache keeps its previous configuration`);
    }
  } finally {
    await lock?.release();
    guard.dispose();
  }
}

/**
 * Put a journal's paths back and the server in the state the run found it in: reloaded with the
 * restored configuration if it had taken the new one, started again if it was running then and
 * is not now (a reload that killed it).
 */
async function undo(target: ApacheTarget, journal: Journal, log: (line: string) => void): Promise<void> {
  await restoreBefore(journal);
  if (journal.reloaded) {
    const result = await gracefulReload(target);
    if (!result.ok) log(`trac-deploy: reloading the restored configuration failed: ${result.output}`);
  }
  if (journal.reloaded || journal.serverPid) await ensureServerState(target, journal.serverPid !== null && journal.serverPid !== undefined, log);
  journal.status = 'rolled-back';
  await saveJournal(target.stateDir, journal).catch((error: unknown) => {
    log(`trac-deploy: warning: the files were restored, but the journal ${journal.id} could not be marked rolled back (${messageOf(stateDirError(error, target.stateDir))}); the next run will restore them again`);
  });
}

/** Make sure Apache runs (when it did), waiting out a parent that is still dying. */
async function ensureServerState(target: ApacheTarget, wasRunning: boolean, log: (line: string) => void): Promise<void> {
  if (!wasRunning) return;
  const { pidFile } = await runConfig(target);
  // A parent that failed to bind at reload exits a second or two later: let it finish first.
  for (let i = 0; i < 30; i++) {
    const pid = await runningPid(pidFile);
    if (pid !== null && (await childrenOf(pid)).size > 0) {
      await sleep(500);
      if (processAlive(pid)) return;
    }
    await sleep(100);
  }
  if ((await runningPid(pidFile)) !== null) return;
  log(`trac-deploy: Apache (${target.root}) had stopped; starting it again with the restored configuration`);
  const started = await ctl(target, target.family === 'debian' ? ['start'] : ['-k', 'start']);
  if (!started.ok) log(`trac-deploy: starting Apache failed: ${started.output}`);
  for (let i = 0; i < 100 && (await runningPid(pidFile)) === null; i++) await sleep(100);
  if ((await runningPid(pidFile)) === null) log(`trac-deploy: error: Apache (${target.root}) is not running and could not be started; see its error log`);
}

async function recoverInterrupted(target: ApacheTarget, log: (line: string) => void): Promise<string[]> {
  const recovered: string[] = [];
  for (const journal of await listJournals(target)) {
    if (journal.status !== 'in-progress') continue;
    log(`trac-deploy: undoing the ${journal.kind} ${journal.id} (pid ${journal.pid}) that was interrupted midway`);
    await undo(target, journal, log);
    recovered.push(journal.id);
  }
  return recovered;
}

/**
 * Graceful reload when the server runs, then proof that it worked: the same parent (pid file and
 * process) forked a new generation, which it does only once the new configuration was read and
 * every Listen bound; every mount point of the change answers over HTTP on every address the
 * server listens on; and every site that answered before still does. Anything else throws, and
 * the caller restores the files and the server.
 */
async function reloadAndVerify(
  target: ApacheTarget,
  log: (line: string) => void,
  journal: Journal,
  options: TransactionOptions,
  verified: string[],
  guard: InterruptGuard,
): Promise<number | null> {
  const { pidFile } = await runConfig(target);
  let pid = await runningPid(pidFile);
  if (pid === null && options.startIfStopped?.()) {
    journal.reloaded = true;
    await saveJournal(target.stateDir, journal);
    log(`trac-deploy: Apache (${target.root}) was running when that apply was made and is not now; starting it`);
    const started = await ctl(target, target.family === 'debian' ? ['start'] : ['-k', 'start']);
    if (!started.ok) throw jobFailed(`starting Apache failed: ${started.output.split('\n')[0] ?? ''}`);
    for (let i = 0; i < 100 && pid === null; i++) {
      await sleep(100);
      pid = await runningPid(pidFile);
    }
    if (pid === null) throw jobFailed('Apache did not start');
    await checkSites(pid, options.mounts ?? [], [], verified);
    return pid;
  }
  if (pid === null) {
    log(`trac-deploy: note: Apache (${target.root}) is not running; the configuration is installed and takes effect when it starts`);
    verified.push('skipped: Apache is not running, nothing was reloaded or requested');
    return null;
  }
  const before = await previousAnswers(target, pid);
  const oldChildren = await childrenOf(pid);
  journal.reloaded = true;
  await saveJournal(target.stateDir, journal);
  const result = await gracefulReload(target);
  if (!result.ok) throw jobFailed(`graceful reload of Apache failed: ${result.output.split('\n')[0] ?? ''}`);
  // Wait (generously: the machine may be loaded) for the new generation, or the parent's end.
  const deadline = Date.now() + 60000;
  for (;;) {
    guard.check();
    if (!processAlive(pid) || (await runningPid(pidFile)) !== pid) {
      throw jobFailed(`Apache (pid ${pid}) stopped after the graceful reload (e.g. a Listen it could not bind, or no space for its pid or lock files); see its error log`);
    }
    const children = await childrenOf(pid);
    if ([...children].some((c) => !oldChildren.has(c))) break;
    if (Date.now() > deadline) throw jobFailed(`Apache (pid ${pid}) started no new processes within 60 s of the graceful reload`);
    await sleep(100);
  }
  await checkSites(pid, options.mounts ?? [], before, verified);
  // The same parent, still: the pid file names it and it runs.
  if (!processAlive(pid) || (await runningPid(pidFile)) !== pid) throw jobFailed(`Apache (pid ${pid}) stopped after the graceful reload; see its error log`);
  verified.push(`Apache pid ${pid}: the same server, alive after the reload, with a new generation of processes`);
  return pid;
}

/** Every mounted site of the current configuration, asked before the reload (as its own virtual host). */
async function previousAnswers(target: ApacheTarget, pid: number): Promise<Answer[]> {
  const addresses = await listenAddresses(pid);
  if (!addresses) return [];
  const mounts = await mountedPaths(target);
  return Promise.all(mounts.flatMap((m) => probesFor(m, addresses).probes.map((p) => probe(p))));
}

async function checkSites(pid: number, mounts: MountCheck[], before: Answer[], verified: string[]): Promise<void> {
  const addresses = await listenAddresses(pid);
  if (!addresses) {
    verified.push(`skipped: the addresses Apache (pid ${pid}) listens on could not be read from /proc; no URL was requested`);
    return;
  }
  const failures: string[] = [];
  for (const mount of mounts) {
    const { probes, missing } = probesFor(mount, addresses);
    for (const port of missing) {
      failures.push(`${mount.path} of ${mount.host ?? 'the site'} is served on port ${port}, where Apache (pid ${pid}) does not listen: add "Listen ${port}" to ports.conf (httpd.conf on RHEL)`);
    }
    for (const request of probes) {
      // Trac's first request imports it: retry a while before calling the mount dead.
      let answer = await probe(request);
      for (let i = 0; i < 20 && !mountAnswered(answer); i++) {
        await sleep(500);
        answer = await probe(request);
      }
      if (mountAnswered(answer)) verified.push(`mounted: ${describe(answer)}`);
      else failures.push(`the applied mount point ${describe(answer)}${request.redirectTo ? ` (expected a redirect to ${request.redirectTo}/...)` : ''}`);
    }
  }
  for (const previous of before.filter(answered)) {
    const answer = await probe(previous.probe);
    if (answered(answer)) verified.push(`still answers: ${describe(answer)}`);
    else failures.push(`${previous.url} answered HTTP ${previous.status} before the reload, now ${describe(answer)}`);
  }
  if (failures.length > 0) throw jobFailed(`after the graceful reload, ${failures[0]}`, ...failures.slice(1));
}

async function prune(stateDir: string): Promise<void> {
  const dir = transactionsDir(stateDir);
  const ids = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  for (const id of ids.slice(0, Math.max(0, ids.length - KEEP_TRANSACTIONS))) await fs.remove(path.join(dir, id));
}
