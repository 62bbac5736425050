import { createHash } from 'node:crypto';

/**
 * The one rule for "did trac-deploy write this file?": its current content is exactly what a
 * record of ours says we wrote there. Not a header line (anyone can copy one), not the name:
 * the content. The records are deploy's manifest, apply's journals and the plan files.
 */
export function contentHash(content: string | Uint8Array): string {
  return createHash('sha1').update(content).digest('hex');
}

/** Whether `content` is what a record of ours holds for the path. */
export function isOurs(recorded: Iterable<string> | string | undefined, content: string | Uint8Array): boolean {
  if (recorded === undefined) return false;
  const hash = contentHash(content);
  if (typeof recorded === 'string') return recorded === hash;
  for (const r of recorded) if (r === hash) return true;
  return false;
}
