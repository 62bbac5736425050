import type { CliContext } from '../context.js';
import type { FilesResult } from '../write/emitFiles.js';

/**
 * The one text view of written files: "wrote (new): PATH", "would write (changed): PATH" with
 * the content, "unchanged: PATH"; for --check "up to date: ..." or the diffs and a drift line.
 * `extraDrift` are further lines of drift (deploy's static files).
 */
export function printFiles(ctx: CliContext, result: FilesResult, extraDrift: string[] = [], upToDate?: string, extraSkipped: string[] = []): void {
  if (result.action === 'check') {
    const drift = result.files.filter((f) => f.status !== 'unchanged' && f.status !== 'skipped');
    const skipped = result.files.filter((f) => f.status === 'skipped');
    const count = drift.length + extraDrift.length;
    // A file not compared is never reported as up to date.
    if (count === 0 && skipped.length === 0 && extraSkipped.length === 0) {
      ctx.stdout(`up to date: ${upToDate ?? result.files.map((f) => f.path).join(', ')}`);
      return;
    }
    for (const f of drift) ctx.stdout(f.diff ?? '');
    for (const line of extraDrift) ctx.stdout(line);
    for (const f of skipped) ctx.stdout(`skipped: ${f.path} (${f.reason ?? 'not compared'})`);
    for (const line of extraSkipped) ctx.stdout(line);
    if (count > 0) ctx.stderr(`drift: ${count} file${count === 1 ? '' : 's'} in ${result.dir} differ from what trac-deploy would write; re-run without --check to update`);
    if (skipped.length + extraSkipped.length > 0) {
      ctx.stderr(`not compared: files in ${result.dir} were skipped (see above); the check could not tell whether they are up to date`);
    }
    return;
  }
  for (const f of result.files) {
    const verb = result.action === 'dry-run' ? (f.status === 'skipped' ? 'would write' : `would write (${f.status})`) : f.written ? `wrote (${f.status})` : 'unchanged';
    ctx.stdout(`${verb}: ${f.path}${f.reason ? ` (${f.reason})` : ''}`);
    if (f.preview !== undefined) ctx.stdout(indent(f.preview));
  }
}

/** The files as --json lists them: --check names only the files that differ. */
export function filesJson(result: FilesResult): unknown[] {
  if (result.action === 'check') return result.files.filter((f) => f.status !== 'unchanged').map(({ path, status, reason }) => ({ path, status, ...(reason ? { reason } : {}) }));
  return result.files.map(({ path, kind, status, written, reason }) => ({ path, kind, status, written, ...(reason ? { reason } : {}) }));
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line ? `    ${line}` : line))
    .join('\n');
}
