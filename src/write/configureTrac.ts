import fs from 'node:fs/promises';
import path from 'node:path';
import { messageOf, reasonOf, usageError, jobFailed } from '../errors.js';
import { shWords } from '../escape/shell.js';
import type { TracSetting } from '../plan/tracUrlSettings.js';

export interface ConfigureResult {
  /** trac.ini -> its backup. */
  backups: { file: string; backup: string }[];
  applied: TracSetting[];
}

/**
 * --configure-trac: each environment's trac.ini is backed up (bytes, mode and owner) beside
 * itself, then trac-admin ENV config set ... runs, so Trac's own config code writes the file.
 * Trac replaces trac.ini with a new file (keeping mode and group); when root ran it, the
 * owner is put back, so the Apache user can still write its own configuration.
 */
export async function configureTrac(settings: TracSetting[], tracAdmin: string, now: Date = new Date()): Promise<ConfigureResult> {
  const result: ConfigureResult = { backups: [], applied: [] };
  const byEnv = new Map<string, TracSetting[]>();
  for (const s of settings) byEnv.set(s.env, [...(byEnv.get(s.env) ?? []), s]);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (const [env, envSettings] of byEnv) {
    const file = path.join(env, 'conf', 'trac.ini');
    const stat = await fs.lstat(file).catch((error: unknown) => {
      throw usageError(`--configure-trac: ${file}: ${reasonOf(error)}`);
    });
    if (!stat.isFile()) throw usageError(`--configure-trac: ${file} is not a regular file (a symlink?); set the options by hand: ${shWords(envSettings[0]?.argv ?? [])}`);
    const backup = `${file}.trac-deploy-${stamp}.bak`;
    await fs.copyFile(file, backup, fs.constants.COPYFILE_EXCL).catch((error: unknown) => {
      throw usageError(`--configure-trac: cannot back up ${file} to ${backup}: ${reasonOf(error)}; nothing in trac.ini was changed`);
    });
    await fs.chmod(backup, stat.mode & 0o7777);
    if (process.getuid?.() === 0) await fs.chown(backup, stat.uid, stat.gid);
    result.backups.push({ file, backup });
    for (const setting of envSettings) {
      const [, ...args] = setting.argv;
      // Loaded when used: execa costs start-up time on every run that never calls it.
      const { execa } = await import('execa');
      // trac-admin loads the environment's plugins: as root, no bytecode (a root-owned
      // plugins/__pycache__ is the daemon's to make).
      const run = await execa(tracAdmin, args, { reject: false, all: true, stdin: 'ignore', timeout: 120000, env: { PYTHONDONTWRITEBYTECODE: '1' } });
      if (run.exitCode !== 0) {
        throw jobFailed(
          `--configure-trac: ${shWords(setting.argv)} failed (${run.exitCode ?? run.shortMessage}); trac.ini's previous content is in ${backup}`,
          ...String(run.all ?? messageOf(run)).split('\n').slice(-5),
        );
      }
      result.applied.push(setting);
    }
    const after = await fs.stat(file);
    if (process.getuid?.() === 0 && (after.uid !== stat.uid || after.gid !== stat.gid)) await fs.chown(file, stat.uid, stat.gid);
    if ((after.mode & 0o7777) !== (stat.mode & 0o7777)) await fs.chmod(file, stat.mode & 0o7777);
  }
  return result;
}

/** The virtualenv's trac-admin when there is one, else the one on PATH. */
export async function findTracAdmin(pythonHome: string | null): Promise<string> {
  if (pythonHome) {
    const inVenv = path.join(pythonHome, 'bin', 'trac-admin');
    if (await fs.access(inVenv, fs.constants.X_OK).then(() => true, () => false)) return inVenv;
  }
  return 'trac-admin';
}
