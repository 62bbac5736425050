import fs from 'fs-extra';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { Finding } from '../findings.js';
import { contentHash, isOurs } from '../write/ownership.js';
import type { DeployedSite } from './deployedSite.js';
import { conflictsIn, mainServerMounts, orderingRenames, snippetFileName, type IncludedConf } from './installOrder.js';
import { listJournals, loadState } from './journal.js';
import { readState, type PathState } from './pathState.js';
import type { ApacheTarget } from './target.js';
import type { Change } from './transaction.js';

export interface InstallChanges {
  changes: Change[];
  /** What the administrator should know: files renamed into the order, conflicts left alone. */
  findings: Finding[];
}

const MAX_CONF_BYTES = 1024 * 1024;

/**
 * What apply changes to install a generated directory: each snippet as `<NN>-<name>.conf` in
 * conf-available + its conf-enabled link (RHEL: conf.d), NN from the depth of its mount point so
 * deeper mounts are read first (installOrder.ts); each whole site as `<name>.conf` in
 * sites-available + sites-enabled. An earlier install of the same snippet under another name
 * (`<name>.conf` from before this naming, or `<MM>-<name>.conf` for another mount depth) is
 * removed in the same transaction, and an earlier install of ours that an ordered name would fix
 * is renamed: the journal keeps the bytes, mode and owner of every path, so --rollback puts
 * each back. Mount points that ordering cannot separate are refused before anything changes.
 */
export async function installChanges(target: ApacheTarget, site: DeployedSite, force: boolean): Promise<InstallChanges> {
  const ours = await installedByUs(target);
  const changes: Change[] = [];
  const findings: Finding[] = [];
  const plans = new Map(site.plans.map((p) => [path.basename(p.files.apache), p]));
  const fresh = new Map<string, { bytes: Buffer; mount: string }>();

  for (const conf of site.confFiles) {
    const isSite = conf.installAs === 'site';
    const installDir = isSite ? target.siteInstallDir : target.installDir;
    const enabledDir = isSite ? target.siteEnabledDir : target.enabledDir;
    const plan = plans.get(conf.name);
    const base = conf.name.replace(/\.conf$/, '');
    const installName = isSite || !plan ? conf.name : snippetFileName(base, plan.urlPrefix);
    if (!isSite && plan) {
      fresh.set(installName, { bytes: conf.bytes, mount: plan.urlPrefix });
      changes.push(...(await retiredInstalls(installDir, enabledDir, base, installName, force, ours)));
    }
    const installed = path.join(installDir, installName);
    const current = await readState(installed);
    // The same bytes already installed: left as they are, with the mode and owner the administrator gave them.
    const after: PathState =
      current.type === 'file' && current.content.equals(conf.bytes) ? current : { type: 'file', content: conf.bytes, mode: 0o644, ...rootOwner() };
    await refuseForeign(installed, after, force, ours);
    changes.push({ path: installed, after });
    if (enabledDir) {
      // What a2enconf (a2ensite) does: a relative link in conf-enabled (sites-enabled) to conf-available (sites-available).
      const link = path.join(enabledDir, installName);
      const linkTarget = path.relative(enabledDir, installed);
      await refuseForeign(link, { type: 'symlink', target: linkTarget }, force, ours);
      changes.push({ path: link, after: { type: 'symlink', target: linkTarget } });
    }
  }
  if (fresh.size === 0) return { changes, findings };

  // The directory Apache includes, as it will be: what is there, minus what this run removes, plus what it installs.
  const includeDir = target.enabledDir ?? target.installDir;
  const removed = new Set(changes.filter((c) => c.after.type === 'absent' && path.dirname(c.path) === includeDir).map((c) => path.basename(c.path)));
  const confs: IncludedConf[] = [];
  for (const file of await includedFiles(includeDir)) {
    if (removed.has(file) || fresh.has(file)) continue;
    const content = await readIncluded(target, includeDir, file);
    if (content === null) continue;
    const mounts = mainServerMounts(content.toString('utf8')).flatMap((m) => (m.urlPrefix === null ? [] : [m.urlPrefix]));
    if (mounts.length === 0) continue;
    const installed = path.join(target.installDir, file);
    confs.push({ file, mounts, fresh: false, ours: isOurs(ours.get(installed), content) });
  }
  for (const [file, { mount }] of fresh) confs.push({ file, mounts: [mount], fresh: true, ours: true });

  const renames = orderingRenames(confs);
  for (const [from, to] of renames) {
    changes.push(...(await renameInstall(target, from, to)));
    findings.push({
      severity: 'info',
      code: 'install-renamed',
      message: `${from} (installed by an earlier apply) is renamed ${to}, so that Apache reads deeper mount points first`,
      path: path.join(target.installDir, to),
    });
  }
  const after = confs.map((c) => ({ ...c, file: renames.get(c.file) ?? c.file }));
  const conflicts = conflictsIn(after);
  const freshFiles = new Set(after.filter((c) => c.fresh).map((c) => c.file));
  const refused = conflicts.filter((c) => freshFiles.has(c.hidden.file) || freshFiles.has(c.by.file));
  const first = refused[0];
  if (first) {
    const { hidden, by } = first;
    const where = `${path.join(includeDir, hidden.file)}`;
    const reason =
      hidden.urlPrefix === by.urlPrefix
        ? `${hidden.urlPrefix} is mounted twice, by ${by.file} and ${hidden.file}: only the first is ever reached, whatever the order`
        : hidden.file === by.file
          ? `${hidden.file} mounts ${by.urlPrefix} before ${hidden.urlPrefix}, so ${hidden.urlPrefix} is answered by ${by.urlPrefix}`
          : `${hidden.urlPrefix} (${hidden.file}) would be answered by ${by.urlPrefix} (${by.file}): Apache reads ${by.file} first and its mount point covers ${hidden.urlPrefix}`;
    const foreign = [hidden.file, by.file].filter((f) => !freshFiles.has(f));
    const advice =
      hidden.urlPrefix === by.urlPrefix
        ? [`choose another --url-prefix, or remove the other site (${foreign.map((f) => `a2disconf ${f.replace(/\.conf$/, '')}`).join(', ') || 'from the generated directory'})`]
        : hidden.file === by.file
          ? [`in ${by.file}, put the WSGIScriptAlias for ${hidden.urlPrefix} before the one for ${by.urlPrefix}`]
          : foreign.map((f) => `${f} was not installed by trac-deploy, so apply does not rename it: rename it (and its conf-available file) so it sorts ${f === by.file ? 'after' : 'before'} ${f === by.file ? hidden.file : by.file}, e.g. ${f === by.file ? snippetFileName(f.replace(/\.conf$/, ''), by.urlPrefix) : snippetFileName(f.replace(/\.conf$/, ''), hidden.urlPrefix)}`);
    throw usageError(`${reason} (${where}); nothing was changed`, ...advice);
  }
  for (const { hidden, by } of conflicts) {
    findings.push({
      severity: 'warning',
      code: 'mount-shadowed',
      message: `${hidden.urlPrefix} (${hidden.file}) is answered by ${by.urlPrefix} (${by.file}), already so before this apply; neither file is one this apply installs`,
      path: path.join(includeDir, hidden.file),
    });
  }
  return { changes, findings };
}

/** Earlier installs of the same snippet under another name: removed (ours) or refused (someone else's `<name>.conf`). */
async function retiredInstalls(installDir: string, enabledDir: string | null, base: string, installName: string, force: boolean, ours: Map<string, string[]>): Promise<Change[]> {
  const changes: Change[] = [];
  const names = (await fs.readdir(installDir).catch(() => [] as string[])).filter((f) => f !== installName && (f === `${base}.conf` || (/^\d\d-/.test(f) && f.slice(3) === `${base}.conf`)));
  for (const name of names) {
    const file = path.join(installDir, name);
    const current = await readState(file);
    const mine = current.type === 'file' && isOurs(ours.get(file), current.content);
    if (!mine && !force) {
      if (name !== `${base}.conf`) continue; // someone's file under a name of their own: the conflict check decides
      throw usageError(
        `${file} exists and was not written by trac-deploy; nothing was changed. apply installs this site as ${installName} and will not leave a second copy of it beside that. Remove it, choose another --name, or use --force (it is backed up and --rollback restores it)`,
      );
    }
    changes.push({ path: file, after: { type: 'absent' } });
    if (enabledDir) {
      const link = path.join(enabledDir, name);
      const state = await readState(link);
      if (state.type === 'symlink' && (force || state.target === path.relative(enabledDir, file))) changes.push({ path: link, after: { type: 'absent' } });
      else if (state.type !== 'absent' && !force) throw usageError(`${link} exists and is not the link apply made; nothing was changed. Remove it, or use --force`);
    }
  }
  return changes;
}

/** An earlier install of ours moved to its ordered name: the same bytes, mode and owner, and the link with it. */
async function renameInstall(target: ApacheTarget, from: string, to: string): Promise<Change[]> {
  const oldFile = path.join(target.installDir, from);
  const newFile = path.join(target.installDir, to);
  const state = await readState(oldFile);
  if (state.type !== 'file') return [];
  const changes: Change[] = [{ path: newFile, after: state }, { path: oldFile, after: { type: 'absent' } }];
  if (target.enabledDir) {
    changes.push({ path: path.join(target.enabledDir, to), after: { type: 'symlink', target: path.relative(target.enabledDir, newFile) } });
    changes.push({ path: path.join(target.enabledDir, from), after: { type: 'absent' } });
  }
  return changes;
}

async function includedFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.conf') && !f.startsWith('.'));
}

/** A file Apache includes from `dir`, read only when it (or what its link names) is a regular file inside the Apache root; bounded. */
async function readIncluded(target: ApacheTarget, dir: string, file: string): Promise<Buffer | null> {
  const real = await fs.realpath(path.join(dir, file)).catch(() => null);
  if (!real) return null;
  const root = await fs.realpath(target.root).catch(() => target.root);
  if (path.relative(root, real).startsWith('..') || path.isAbsolute(path.relative(root, real))) return null;
  const stat = await fs.stat(real).catch(() => null);
  if (!stat?.isFile() || stat.size > MAX_CONF_BYTES) return null;
  return fs.readFile(real).catch(() => null);
}

/** The content of every file an apply of ours installed, by path: ownership is the content. */
export async function installedByUs(target: ApacheTarget): Promise<Map<string, string[]>> {
  const hashes = new Map<string, string[]>();
  for (const journal of await listJournals(target)) {
    if (journal.kind !== 'apply') continue;
    for (const entry of journal.entries) {
      if (entry.after.type !== 'file') continue;
      const state = await loadState(entry.after).catch(() => null);
      if (state?.type === 'file') hashes.set(entry.path, [...(hashes.get(entry.path) ?? []), contentHash(state.content)]);
    }
  }
  return hashes;
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
