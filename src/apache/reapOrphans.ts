import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Throwaway servers record who started them (`owner`: pid and process start time, so a reused
 * pid is not mistaken for the owner). A smoke killed with SIGKILL cannot stop its Apache: the
 * next throwaway server stops any whose owner is gone (its process group, after checking that
 * the pid in the directory's pid file is an Apache started with that directory's httpd.conf)
 * and removes the directory. Directories without an owner record are never touched.
 */
export const OWNER_FILE = 'owner';
export const ROOT_PREFIX = 'trac-deploy-httpd-';

export async function ownerRecord(pid = process.pid): Promise<string> {
  return `${pid} ${await startTime(pid)}\n`;
}

async function startTime(pid: number): Promise<string | null> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

async function ownerAlive(record: string): Promise<boolean> {
  const [pidText, started] = record.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true; // unreadable record: leave it alone
  const now = await startTime(pid);
  return now !== null && now === started;
}

export async function reapOrphans(tmp = os.tmpdir()): Promise<string[]> {
  const reaped: string[] = [];
  for (const name of await fs.readdir(tmp).catch(() => [] as string[])) {
    if (!name.startsWith(ROOT_PREFIX)) continue;
    const root = path.join(tmp, name);
    // Only our own server directories: /tmp is anyone's, so a directory someone else made (or a
    // link, or an owner "file" that is a FIFO) is left alone, never read, killed for or removed.
    if (!(await ownDirectory(root)) || !(await ownRegularFile(path.join(root, OWNER_FILE)))) continue;
    const record = await fs.readFile(path.join(root, OWNER_FILE), 'utf8').catch(() => null);
    if (record === null || (await ownerAlive(record))) continue;
    const pidFile = path.join(root, 'httpd.pid');
    const pid = (await ownRegularFile(pidFile)) ? Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim()) : NaN;
    if (Number.isInteger(pid) && pid > 1) {
      const cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (cmdline.includes(path.join(root, 'httpd.conf'))) {
        for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
          try {
            process.kill(-pid, signal);
          } catch {
            // gone
          }
          for (let i = 0; i < 50 && (await startTime(pid)) !== null; i++) await new Promise((r) => setTimeout(r, 100));
          if ((await startTime(pid)) === null) break;
        }
      }
    }
    await fs.rm(root, { recursive: true, force: true });
    reaped.push(root);
  }
  return reaped;
}

const uid = () => process.getuid?.() ?? -1;

async function ownDirectory(dir: string): Promise<boolean> {
  const stat = await fs.lstat(dir).catch(() => null);
  return Boolean(stat?.isDirectory() && stat.uid === uid());
}

/** A regular file of ours, small: never a link, FIFO or device (reading one could hang). */
async function ownRegularFile(file: string): Promise<boolean> {
  const stat = await fs.lstat(file).catch(() => null);
  return Boolean(stat?.isFile() && stat.uid === uid() && stat.size < 4096);
}
