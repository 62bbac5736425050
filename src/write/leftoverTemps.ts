import fs from 'node:fs';
import path from 'node:path';
import { startTicksOf } from '../util/procfs.js';
import { inPinned, pinDir, unpin, type PinnedDir } from './pinnedDir.js';
import { removeStaleStaging, STAGING_PREFIX } from './stageHtdocs.js';

/**
 * The temporary names trac-deploy writes under before renaming (a deploy killed in between
 * leaves them): `.<name>.<pid>.<ms since 1970>.<up to 6 base-36 chars>.tmp` (htdocs files and the
 * manifest, syncHtdocs.ts tempName; scripts and configuration, writeFiles.ts writeAtomic), and
 * `.<name>.<12 hex digits>.tmp`, which earlier versions wrote htdocs files and the manifest under.
 */
const OUR_TEMP = [/^\..+\.[0-9a-f]{12}\.tmp$/, /^\..+\.\d+\.\d{13}\.[0-9a-z]{1,6}\.tmp$/];

export function isOurTempName(name: string): boolean {
  return OUR_TEMP.some((pattern) => pattern.test(name));
}

/**
 * Removes the temporary files an interrupted deploy left in TARGET: in TARGET itself, in
 * TARGET/cgi-bin, and anywhere below TARGET/htdocs. Only a regular file with one of our
 * temporary names, owned by the user that runs this, is removed; a link is never followed
 * (neither into a directory nor to a file: a link with such a name is left alone), and nothing
 * outside TARGET is looked at. A name that holds a process id (`.<name>.<pid>.<ms>.<rand>.tmp`)
 * is left alone while that process runs and started before the file was made (a concurrent
 * deploy's file in flight). As root, a directory is swept only when it is root's and writable by
 * nobody else (the rule deploy applies below htdocs, unsafeHtdocs.ts changeableBelow), and each is
 * held open (pinnedDir.ts): what is listed, looked at and removed is in that very directory,
 * whatever happens to its path meanwhile. The staging directories of deploys killed outright go
 * too (stageHtdocs.ts removeStaleStaging: only a dead run's, never a live one's). Returns the
 * paths removed.
 */
export function removeLeftoverTemps(target: string, { asRoot = process.geteuid?.() === 0 }: { asRoot?: boolean } = {}): string[] {
  const removed: string[] = [];
  const uid = process.geteuid?.() ?? -1;
  const sweep = (open: string, shown: string, depth: number, recurse: boolean) => {
    if (depth > 64) return;
    let pin: PinnedDir;
    try {
      // The directory itself must be one (not a link to one: O_NOFOLLOW).
      pin = pinDir(open, null, { rule: false, dir: shown });
    } catch {
      return;
    }
    try {
      if (asRoot && !rootOnly(pin)) return;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(pin.at, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const file = path.join(shown, entry.name);
        if (entry.isDirectory()) {
          // A staging directory (stageHtdocs.ts) holds no temporary names; a dead run's went whole
          // above, and a live one's (this run's among them) is its run's alone.
          if (recurse && !entry.name.startsWith(STAGING_PREFIX)) sweep(inPinned(pin, entry.name), file, depth + 1, true);
          continue;
        }
        if (!entry.isFile() || !isOurTempName(entry.name) || ownerMayRun(entry.name)) continue;
        const at = inPinned(pin, entry.name);
        const stat = fs.lstatSync(at, { throwIfNoEntry: false });
        if (!stat?.isFile() || (uid !== -1 && stat.uid !== uid)) continue;
        try {
          fs.unlinkSync(at);
          removed.push(file);
        } catch {
          // Gone already, or not ours to remove: left as it is.
        }
      }
    } finally {
      unpin(pin);
    }
  };
  removed.push(...removeStaleStaging(path.join(target, 'htdocs')));
  sweep(target, target, 0, false);
  sweep(path.join(target, 'cgi-bin'), path.join(target, 'cgi-bin'), 1, false);
  sweep(path.join(target, 'htdocs'), path.join(target, 'htdocs'), 1, true);
  return removed.sort();
}

/** The pinned directory is root's and writable by nobody else (sticky or not). */
function rootOnly(pin: PinnedDir): boolean {
  try {
    const stat = pin.fd === null ? fs.lstatSync(pin.at) : fs.fstatSync(pin.fd);
    return stat.isDirectory() && stat.uid === 0 && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

const PID_NAMED = /\.(\d+)\.(\d{13})\.[0-9a-z]{1,6}\.tmp$/;

/**
 * Whether NAME holds the id of a process that still runs and may have made it: that process
 * started no later than the file's time (two seconds' slack: the boot time /proc gives is in
 * whole seconds). A process id now another process's, started since, does not count.
 */
export function ownerMayRun(name: string): boolean {
  const match = PID_NAMED.exec(name);
  if (!match) return false;
  const pid = Number(match[1]);
  const made = Number(match[2]);
  const started = startedAtMs(pid);
  if (started === undefined) {
    // No /proc: whether it runs at all.
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  }
  return started !== null && started <= made + 2000;
}

let bootMs: number | null | undefined;

/** When process PID started (ms since 1970); null: no such process; undefined: /proc cannot tell. */
function startedAtMs(pid: number): number | null | undefined {
  if (bootMs === undefined) {
    try {
      const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'));
      bootMs = btime ? Number(btime[1]) * 1000 : null;
    } catch {
      bootMs = null;
    }
  }
  if (bootMs === null) return undefined;
  const started = startTicksOf(pid);
  if (started === null) return null;
  // Clock ticks since boot (USER_HZ, 100 on Linux).
  const ticks = Number(started);
  return Number.isFinite(ticks) ? bootMs + ticks * 10 : undefined;
}

/** The note for what removeLeftoverTemps removed: N temporary files and M staging directories. */
export function leftoverNote(removed: readonly string[], target: string): string {
  const dirs = removed.filter((p) => path.basename(p).startsWith(STAGING_PREFIX)).length;
  const files = removed.length - dirs;
  const parts = [
    ...(files > 0 ? [`${files} temporary file${files === 1 ? '' : 's'}`] : []),
    ...(dirs > 0 ? [`${dirs} staging director${dirs === 1 ? 'y' : 'ies'}`] : []),
  ];
  return `removed ${parts.join(' and ')} an interrupted deploy left in ${target} (${removed.slice(0, 3).join(', ')}${removed.length > 3 ? ', ...' : ''})`;
}
