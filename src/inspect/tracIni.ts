import { reasonOf } from '../errors.js';
import path from 'node:path';
import { fillIni, iniList, mergeIni, parseIni, type IniSections } from './configParser.js';
import { readRegularFileSync } from './readRegularFile.js';
import type { Problem } from './types.js';

export interface TracIni {
  /** The environment's trac.ini layered over its [inherit] file chain. */
  sections: IniSections;
  /** Absolute paths of the inherited files that were read, nearest last. */
  inheritedFiles: string[];
  problems: Problem[];
}

/** More [inherit] files than any real setup has: the rest are not read. */
const MAX_INHERITED = 200;

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
 * an unreadable inherited file is a problem, not an exception. Synchronous: small bounded reads,
 * done by the thousand for a parent directory (on worker threads).
 */
export function readTracIni(envPath: string): TracIni {
  const file = path.join(envPath, 'conf', 'trac.ini');
  const problems: Problem[] = [];
  const own = readIniFile(file, problems);
  const inheritedFiles: string[] = [];
  const base = readParents(file, own, problems, inheritedFiles, new Set([file]), new Map());
  // Without [inherit] files (most environments) the file's own sections are the answer as they are.
  return { sections: base.size === 0 ? own : mergeIni(base, own), inheritedFiles: [...new Set(inheritedFiles)], problems };
}

function readIniFile(file: string, problems: Problem[]): IniSections {
  let text: string;
  try {
    text = readRegularFileSync(file);
  } catch (error) {
    throw new TracIniUnreadable(file, reasonOf(error));
  }
  const parsed = parseIni(text);
  for (const e of parsed.errors) {
    problems.push({
      code: 'trac-ini-syntax',
      // Trac.ini is read whole when the environment opens: one such line in the environment's
      // file or any file it inherits and Trac serves nothing (TracError, DuplicateSectionError...).
      severity: 'error',
      message: `${file}:${e.line}: ${e.reason}; Trac will refuse this file`,
      path: file,
    });
  }
  return parsed.sections;
}

function readParents(
  file: string,
  sections: IniSections,
  problems: Problem[],
  seen: string[],
  visiting: Set<string>,
  done: Map<string, IniSections>,
): IniSections {
  // The first file named wins over the later ones (Trac's Section.get walks config.parents in order).
  let merged: IniSections = new Map();
  for (const name of iniList(sections.get('inherit')?.get('file'))) {
    const parent = path.resolve(path.dirname(file), name);
    if (visiting.has(parent)) {
      // Trac opens each named file anew, its parents with it, until Python's RecursionError.
      problems.push({ code: 'inherit-cycle', severity: 'error', message: `[inherit] file ${parent} includes itself; Trac will refuse this environment (RecursionError)`, path: parent });
      continue;
    }
    // Each file is read (and its own parents merged) once, however many files inherit it: a
    // fan-out of 8 files 7 deep is 8x7 reads, not 8^7.
    const known = done.get(parent);
    if (known) {
      merged = fillIni(merged, known);
      continue;
    }
    if (done.size >= MAX_INHERITED) {
      problems.push({ code: 'inherit-too-many', severity: 'warning', message: `[inherit] names more than ${MAX_INHERITED} files; ${parent} and the rest were not read`, path: parent });
      break;
    }
    try {
      const own = readIniFile(parent, problems);
      const grand = readParents(parent, own, problems, seen, new Set([...visiting, parent]), done);
      const whole = mergeIni(grand, own);
      done.set(parent, whole);
      merged = fillIni(merged, whole);
      seen.push(parent);
    } catch (error) {
      problems.push({
        code: 'inherit-unreadable',
        severity: 'warning',
        message: `${error instanceof Error ? error.message : String(error)}${/[\r\n]/.test(name) ? '; Trac splits [inherit] file at commas only, so it looks for one file of that name, finds none and ignores it: separate the files with commas' : ''}`,
        path: parent,
      });
    }
  }
  return merged;
}
