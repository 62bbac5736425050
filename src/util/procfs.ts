import fs from 'node:fs';

/** What the kernel names descriptor FD of this process (its /proc/self/fd link); null when it cannot tell. */
export function descriptorPath(fd: number): string | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * Process PID's start time in clock ticks since boot (/proc/PID/stat field 22, read after the
 * command name, which may hold spaces and parentheses); null when there is no such process or
 * /proc cannot tell.
 */
export function startTicksOf(pid: number | 'self'): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
