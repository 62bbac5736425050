import fs, { type Dirent } from 'node:fs';
import path from 'node:path';
import type { Plugin } from './types.js';

/**
 * Plugins Trac loads from a plugins directory (ENV/plugins, [inherit] plugins_dir): eggs
 * (zipped or unpacked), wheels as some installers leave them, and single-file .py plugins.
 * Synchronous (one directory listing), like the other per-environment reads.
 */
export function listPlugins(dir: string): Plugin[] {
  let entries: Dirent[];
  try {
    // A missing plugins directory is answered without an exception (building one costs more
    // than the listing; synthetic and stripped-down environments have none).
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const plugins: Plugin[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.name.endsWith('.egg')) plugins.push({ name: distName(entry.name), path: full, kind: 'egg' });
    else if (entry.name.endsWith('.whl')) plugins.push({ name: distName(entry.name), path: full, kind: 'wheel' });
    else if (entry.name.endsWith('.py') && entry.isFile()) plugins.push({ name: entry.name.slice(0, -3), path: full, kind: 'py' });
    else if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== '__pycache__') {
      plugins.push({ name: entry.name, path: full, kind: 'directory' });
    }
  }
  return plugins.sort((a, b) => a.name.localeCompare(b.name));
}

/** "TracAccountManager-0.6-py3.11.egg" -> "TracAccountManager". */
function distName(fileName: string): string {
  return fileName.split('-')[0] ?? fileName;
}
