import type { ExitCode } from '../errors.js';
import type { RenderedFile } from '../plan/types.js';
import { driftDiffs, writeFiles, type FileStatus } from './writeFiles.js';

/** One file a command wrote, would write, or compared. */
export interface FileReport {
  path: string;
  kind: string;
  status: FileStatus;
  written: boolean;
  /** --dry-run: the content that would be written (new or changed files). */
  preview?: string;
  /** --check: the unified diff against the disk. */
  diff?: string;
  /** status skipped: why it was not compared (never its content). */
  reason?: string;
}

/** What a write (or a --dry-run or --check of one) did to a set of files. */
export interface FilesResult {
  action: 'write' | 'dry-run' | 'check';
  files: FileReport[];
  /** The directory the drift message names. */
  dir: string;
}

export interface EmitOptions {
  force: boolean;
  dryRun: boolean;
  check: boolean;
}

/**
 * The one policy for rendered files, shared by generate, init, deploy and ci: --check compares
 * (a diff for each file that differs), --dry-run renders and writes nothing, otherwise
 * writeFiles (no-clobber without --force, atomic).
 */
export async function emitFiles(files: RenderedFile[], options: EmitOptions, dir: string): Promise<FilesResult> {
  if (options.check) {
    const drift = new Map((await driftDiffs(files)).map((d) => [d.path, d]));
    return {
      action: 'check',
      dir,
      files: files.map((f) => {
        const d = drift.get(f.path);
        if (d?.status === 'skipped') return { path: f.path, kind: f.kind, status: d.status, written: false, reason: d.reason ?? 'not compared' };
        return d ? { path: f.path, kind: f.kind, status: d.status, written: false, diff: d.diff } : { path: f.path, kind: f.kind, status: 'unchanged' as const, written: false };
      }),
    };
  }
  const outcomes = await writeFiles(files, { force: options.force, dryRun: options.dryRun });
  return {
    action: options.dryRun ? 'dry-run' : 'write',
    dir,
    files: outcomes.map((o, index) => (options.dryRun && o.status !== 'unchanged' ? { ...o, preview: files[index]?.content ?? '' } : o)),
  };
}

/** --check fails (exit 1) on drift, and when a file was not compared (skipped: never "up to date"); everything else that returned succeeded. */
export function filesExitCode(result: FilesResult): ExitCode {
  return result.action === 'check' && result.files.some((f) => f.status !== 'unchanged') ? 1 : 0;
}
