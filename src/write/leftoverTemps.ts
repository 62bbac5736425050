import fs from 'node:fs';
import path from 'node:path';
import { removeStaleStaging, STAGING_PREFIX } from './stageHtdocs.js';

/**
 * The temporary names trac-deploy writes under before renaming (a deploy killed in between
 * leaves them): `.<name>.<12 hex digits>.tmp` for htdocs files and the manifest
 * (syncHtdocs.ts), `.<name>.<pid>.<ms since 1970>.<up to 6 base-36 chars>.tmp` for scripts and
 * configuration (writeFiles.ts writeAtomic).
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
 * outside TARGET is looked at. The staging directories of deploys killed outright go too
 * (stageHtdocs.ts removeStaleStaging: only a dead run's, never a live one's). Returns the paths removed.
 */
export function removeLeftoverTemps(target: string): string[] {
  const removed: string[] = [];
  const uid = process.geteuid?.() ?? -1;
  const sweep = (dir: string, depth: number, recurse: boolean) => {
    if (depth > 64) return;
    let entries: fs.Dirent[];
    try {
      // The directory itself must be one (not a link to one).
      if (!fs.lstatSync(dir).isDirectory()) return;
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        // A staging directory (stageHtdocs.ts) holds no temporary names; a dead run's went whole
        // above, and a live one's (this run's among them) is its run's alone.
        if (recurse && !entry.name.startsWith(STAGING_PREFIX)) sweep(file, depth + 1, true);
        continue;
      }
      if (!entry.isFile() || !isOurTempName(entry.name)) continue;
      const stat = fs.lstatSync(file, { throwIfNoEntry: false });
      if (!stat?.isFile() || (uid !== -1 && stat.uid !== uid)) continue;
      try {
        fs.unlinkSync(file);
        removed.push(file);
      } catch {
        // Gone already, or not ours to remove: left as it is.
      }
    }
  };
  removed.push(...removeStaleStaging(path.join(target, 'htdocs')));
  sweep(target, 0, false);
  sweep(path.join(target, 'cgi-bin'), 1, false);
  sweep(path.join(target, 'htdocs'), 1, true);
  return removed.sort();
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
