import path from 'node:path';
import { machineChecks } from '../apply/checks.js';
import { readDeployedSite } from '../apply/deployedSite.js';
import { holdsAfter, listJournals, loadState, saveJournal, type Journal } from '../apply/journal.js';
import { readState, type PathState } from '../apply/pathState.js';
import { runTransaction, type Change, type TransactionResult } from '../apply/transaction.js';
import { mountCheckOf } from '../apply/serverCheck.js';
import { resolveTarget, type ApacheTarget, type TargetOptions } from '../apply/target.js';
import { EXIT, usageError } from '../errors.js';
import { errorsIn, type Finding } from '../findings.js';
import { contentHash, isOurs } from '../write/ownership.js';
import type { ApplyOutcome } from './outcome.js';

export interface ApplyArgs extends TargetOptions {
  dir?: string | undefined;
  rollback: boolean;
  force: boolean;
  reload: boolean;
  skipChecks: boolean;
  /** Progress of the transaction (stderr). */
  log?: (line: string) => void;
}

/** What apply or rollback did; the CLI prints it. */
export interface ApplyResult {
  action: 'apply' | 'rollback';
  target: ApacheTarget;
  transaction: TransactionResult | null;
  checks: Finding[];
  /** Why nothing was changed, when the machine checks failed. */
  refused: string | null;
}

/**
 * `apply DIR`: install the Apache snippets generate wrote into DIR into the system's Apache
 * (Debian: conf-available + the conf-enabled link a2enconf would make; RHEL: conf.d) and
 * reload it gracefully, or undo the last apply (`--rollback`).
 */
export async function runApply(args: ApplyArgs): Promise<ApplyOutcome> {
  if (args.rollback) {
    if (args.dir) throw usageError('--rollback takes no directory: it undoes the last apply');
    return runRollback(args);
  }
  if (!args.dir) throw usageError('name the directory trac-deploy generate wrote (apply DIR), or use --rollback');
  const site = await readDeployedSite(args.dir);
  const target = await resolveTarget(args);

  let findings: Finding[] = [];
  if (!args.skipChecks) {
    findings = await machineChecks(target, site);
    const errors = errorsIn(findings).length;
    if (errors > 0) {
      const refused = `${errors} machine check${errors === 1 ? '' : 's'} failed; nothing was changed. Fix ${errors === 1 ? 'it' : 'them'}, or pass --skip-checks`;
      return { kind: 'apply', exitCode: EXIT.failed, result: { action: 'apply', target, transaction: null, checks: findings, refused } };
    }
  }

  const result = await runTransaction({
    target,
    kind: 'apply',
    source: site.dir,
    reload: args.reload,
    mounts: site.plans.map(mountCheckOf),
    log: args.log ?? (() => {}),
    changes: async () => {
      const changes: Change[] = [];
      const ours = await installedByUs(target);
      for (const conf of site.confFiles) {
        const site = conf.installAs === 'site';
        const installDir = site ? target.siteInstallDir : target.installDir;
        const enabledDir = site ? target.siteEnabledDir : target.enabledDir;
        const installed = path.join(installDir, conf.name);
        const current = await readState(installed);
        // The same bytes already installed: left as they are, with the mode and owner the administrator gave them.
        const after: PathState =
          current.type === 'file' && current.content.equals(conf.bytes) ? current : { type: 'file', content: conf.bytes, mode: 0o644, ...rootOwner() };
        await refuseForeign(installed, after, args.force, ours);
        changes.push({ path: installed, after });
        if (enabledDir) {
          // What a2enconf (a2ensite) does: a relative link in conf-enabled (sites-enabled) to conf-available (sites-available).
          const link = path.join(enabledDir, conf.name);
          const linkTarget = path.relative(enabledDir, installed);
          await refuseForeign(link, { type: 'symlink', target: linkTarget }, args.force, ours);
          changes.push({ path: link, after: { type: 'symlink', target: linkTarget } });
        }
      }
      return changes;
    },
  });
  return { kind: 'apply', exitCode: EXIT.ok, result: { action: 'apply', target, transaction: result, checks: findings, refused: null } };
}

async function runRollback(args: ApplyArgs): Promise<ApplyOutcome> {
  const target = await resolveTarget(args);
  let undone: Awaited<ReturnType<typeof listJournals>>[number] | undefined;
  const result = await runTransaction({
    target,
    kind: 'rollback',
    source: '',
    reload: args.reload,
    // Undoing an apply made while Apache ran: Apache runs afterwards, whatever stopped it since.
    startIfStopped: () => Boolean(undone?.serverPid),
    log: args.log ?? (() => {}),
    changes: async (recovered) => {
      // Undoing the run that was killed midway is all a rollback does then: the last completed
      // apply before it stays in place (one rollback undoes one run, never two).
      if (recovered.length > 0) return [];
      undone = (await listJournals(target)).filter((j) => j.kind === 'apply' && j.status === 'applied').pop();
      if (!undone) throw usageError(`nothing to roll back: no completed apply is recorded in ${target.stateDir}`);
      const changes: Change[] = [];
      for (const entry of [...undone.entries].reverse()) {
        if (!args.force && !(await holdsAfter(entry))) {
          throw usageError(`${entry.path} changed since the apply ${undone.id}; nothing was rolled back. Use --force to restore it anyway`);
        }
        changes.push({ path: entry.path, after: await loadState(entry.before) });
      }
      return changes;
    },
    onCommit: async (journal) => {
      if (!undone) return;
      undone.status = 'rolled-back';
      journal.source = undone.id;
      await saveJournal(target.stateDir, journal);
      await saveJournal(target.stateDir, undone);
    },
  });
  return { kind: 'apply', exitCode: EXIT.ok, result: { action: 'rollback', target, transaction: result, checks: [], refused: null } };
}

/** The content of every file an apply of ours installed, by path: ownership is the content. */
async function installedByUs(target: ApacheTarget): Promise<Map<string, string[]>> {
  const hashes = new Map<string, string[]>();
  for (const journal of await listJournals(target)) {
    if (journal.kind !== 'apply') continue;
    for (const entry of journal.entries) {
      const hash = await recordedHash(journal, entry.after);
      if (hash) hashes.set(entry.path, [...(hashes.get(entry.path) ?? []), hash]);
    }
  }
  return hashes;
}

async function recordedHash(_journal: Journal, after: Journal['entries'][number]['after']): Promise<string | null> {
  if (after.type !== 'file') return null;
  const state = await loadState(after).catch(() => null);
  return state?.type === 'file' ? contentHash(state.content) : null;
}

/** Installed configuration belongs to root when root installs it (as a2enconf leaves it). */
function rootOwner(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? { uid: 0, gid: 0 } : {};
}

/** Files someone else put there are replaced only with --force; ours are the ones whose content an apply of ours installed. */
async function refuseForeign(file: string, wanted: PathState, force: boolean, ours: Map<string, string[]>): Promise<void> {
  if (force) return;
  const current = await readState(file);
  if (current.type === 'absent') return;
  if (wanted.type === 'symlink' && current.type === 'symlink' && current.target === wanted.target) return;
  if (wanted.type === 'file' && current.type === 'file' && (current.content.equals(wanted.content) || isOurs(ours.get(file), current.content))) return;
  throw usageError(`${file} exists and was not written by trac-deploy; nothing was changed. Remove it, choose another --name, or use --force (it is backed up and --rollback restores it)`);
}
