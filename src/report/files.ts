import type { CliContext } from '../context.js';
import type { FilesResult } from '../write/emitFiles.js';

/**
 * The one text view of written files: "wrote (new): PATH", "would write (changed): PATH" with
 * the content, "unchanged: PATH"; for --check "up to date: ..." or the diffs and a drift line.
 * `extraDrift` are further lines of drift (deploy's static files).
 */
export function printFiles(ctx: CliContext, result: FilesResult, extraDrift: string[] = [], upToDate?: string): void {
  if (result.action === 'check') {
    const drift = result.files.filter((f) => f.status !== 'unchanged');
    const count = drift.length + extraDrift.length;
    if (count === 0) {
      ctx.stdout(`up to date: ${upToDate ?? result.files.map((f) => f.path).join(', ')}`);
      return;
    }
    for (const f of drift) ctx.stdout(f.diff ?? '');
    for (const line of extraDrift) ctx.stdout(line);
    ctx.stderr(`drift: ${count} file${count === 1 ? '' : 's'} in ${result.dir} differ from what trac-deploy would write; re-run without --check to update`);
    return;
  }
  for (const f of result.files) {
    const verb = result.action === 'dry-run' ? `would write (${f.status})` : f.written ? `wrote (${f.status})` : 'unchanged';
    ctx.stdout(`${verb}: ${f.path}`);
    if (f.preview !== undefined) ctx.stdout(indent(f.preview));
  }
}

/** The files as --json lists them: --check names only the files that differ. */
export function filesJson(result: FilesResult): unknown[] {
  if (result.action === 'check') return result.files.filter((f) => f.status !== 'unchanged').map(({ path, status }) => ({ path, status }));
  return result.files.map(({ path, kind, status, written }) => ({ path, kind, status, written }));
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line ? `    ${line}` : line))
    .join('\n');
}
