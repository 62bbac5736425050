import fs from 'node:fs/promises';
import { reasonOf } from '../errors.js';
import path from 'node:path';
import { iniList, mergeIni, parseIni, type IniSections } from './configParser.js';
import type { Problem } from './types.js';

export interface TracIni {
  /** The environment's trac.ini layered over its [inherit] file chain. */
  sections: IniSections;
  /** Absolute paths of the inherited files that were read, nearest last. */
  inheritedFiles: string[];
  problems: Problem[];
}

export class TracIniUnreadable extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`cannot read ${file}: ${reason}`);
    this.name = 'TracIniUnreadable';
  }
}

/**
 * Reads ENV/conf/trac.ini and, as Trac does, the files named in `[inherit] file` (relative to
 * the directory of the file that names them). The environment's own file must be readable;
 * an unreadable inherited file is a problem, not an exception.
 */
export async function readTracIni(envPath: string): Promise<TracIni> {
  const file = path.join(envPath, 'conf', 'trac.ini');
  const problems: Problem[] = [];
  const own = await readIniFile(file, problems);
  const inheritedFiles: string[] = [];
  const base = await readParents(file, own, problems, inheritedFiles, new Set([file]));
  return { sections: mergeIni(base, own), inheritedFiles, problems };
}

async function readIniFile(file: string, problems: Problem[]): Promise<IniSections> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new TracIniUnreadable(file, reasonOf(error));
  }
  const parsed = parseIni(text);
  for (const e of parsed.errors) {
    problems.push({
      code: 'trac-ini-syntax',
      severity: 'warning',
      message: `${file}:${e.line}: ${e.reason}; Trac will refuse this file`,
      path: file,
    });
  }
  return parsed.sections;
}

async function readParents(
  file: string,
  sections: IniSections,
  problems: Problem[],
  seen: string[],
  visiting: Set<string>,
): Promise<IniSections> {
  let merged: IniSections = new Map();
  for (const name of iniList(sections.get('inherit')?.get('file'))) {
    const parent = path.resolve(path.dirname(file), name);
    if (visiting.has(parent)) {
      problems.push({ code: 'inherit-cycle', severity: 'warning', message: `[inherit] file ${parent} includes itself`, path: parent });
      continue;
    }
    try {
      const own = await readIniFile(parent, problems);
      const grand = await readParents(parent, own, problems, seen, new Set([...visiting, parent]));
      merged = mergeIni(merged, mergeIni(grand, own));
      seen.push(parent);
    } catch (error) {
      problems.push({
        code: 'inherit-unreadable',
        severity: 'warning',
        message: error instanceof Error ? error.message : String(error),
        path: parent,
      });
    }
  }
  return merged;
}
