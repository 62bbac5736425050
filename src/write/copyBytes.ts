import fsSync, { constants as fsConstants } from 'node:fs';

/**
 * A new file, made exclusively (O_EXCL, O_NOFOLLOW: a link planted under the name is never
 * followed) and private (0600) until fillCopySync gives it the source's permission bits.
 */
export function openExclusive(file: string): number {
  return fsSync.openSync(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
}

/**
 * Writes a source's bytes into FD, with the source's own permission bits, never more (a file its
 * owner kept private stays so), and its times: the mtime is kept as trac-admin's copy2 keeps it,
 * so Last-Modified and ETags stay stable. Closes FD.
 */
export function fillCopySync(fd: number, copy: { content: Buffer; mode: number; atime?: Date | undefined; mtime?: Date | undefined }): void {
  try {
    fsSync.writeFileSync(fd, copy.content);
    fsSync.fchmodSync(fd, copy.mode);
    if (copy.mtime) fsSync.futimesSync(fd, copy.atime ?? copy.mtime, copy.mtime);
  } finally {
    fsSync.closeSync(fd);
  }
}
