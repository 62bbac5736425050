import fs from 'node:fs';

/**
 * /proc/locks, kept open per thread (reading it again from offset 0 makes the kernel list it
 * anew; 2 us against 8 us for open, read, close). It stays open until the process ends: one
 * descriptor per inspect worker thread.
 */
let procLocks: number | null | undefined;
let buffer = Buffer.allocUnsafe(64 * 1024);
const MAX_LIST = 4 * 1024 * 1024;

/**
 * Whether any process holds or waits for a POSIX or OFD lock on the file with inode `inode`,
 * from Linux's /proc/locks (SQLite's rollback-journal writers take their locks on the database
 * file itself). The inode number alone is compared, on any device: a lock on an unrelated file
 * that shares it only makes the caller ask SQLite. null when the list cannot be read (not Linux,
 * /proc not mounted, a list larger than a few MiB): then nobody can say the file is unlocked.
 */
export function lockedByAnyone(inode: bigint): boolean | null {
  if (procLocks === undefined) {
    try {
      procLocks = fs.openSync('/proc/locks', fs.constants.O_RDONLY);
    } catch {
      procLocks = null;
    }
  }
  if (procLocks === null) return null;
  let length = 0;
  try {
    for (;;) {
      // The kernel hands the list out a page or so per read: read on until it ends, and when
      // the buffer fills first, start again with a larger one.
      const read = fs.readSync(procLocks, buffer, length, buffer.length - length, length);
      length += read;
      if (read === 0) break;
      if (length < buffer.length) continue;
      if (buffer.length >= MAX_LIST) return null;
      buffer = Buffer.allocUnsafe(buffer.length * 4);
      length = 0;
    }
  } catch {
    return null;
  }
  if (length === 0) return false;
  // Each line: "1: POSIX  ADVISORY  WRITE 18058 fe:00:2187323 1073741824 1073742335" (a waiter's
  // line starts "1: -> POSIX"); the device and inode are the field "MAJOR:MINOR:INODE".
  const needle = `:${inode} `;
  const text = buffer.toString('latin1', 0, length);
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const fieldStart = text.lastIndexOf(' ', at) + 1;
    if (/^[0-9a-f]+:[0-9a-f]+$/.test(text.slice(fieldStart, at))) return true;
  }
  return false;
}
