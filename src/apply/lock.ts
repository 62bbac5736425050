import fs from 'fs-extra';
import path from 'node:path';
import { usageError } from '../errors.js';
import { processAlive } from './target.js';

export interface Lock {
  file: string;
  /** The pid of a dead run whose lock was taken over, if any. */
  staleFrom: number | null;
  release: () => Promise<void>;
}

/**
 * One apply at a time per Apache configuration: a lock file made with O_EXCL holding our pid.
 * A lock whose process is gone (killed with SIGKILL, power cut) is taken over.
 */
export async function takeLock(stateDir: string): Promise<Lock> {
  await fs.mkdirp(stateDir);
  const file = path.join(stateDir, 'lock');
  let staleFrom: number | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.promises.open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { file, staleFrom, release: () => fs.rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt((await fs.readFile(file, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
      throw usageError(`another trac-deploy apply (pid ${holder}) is changing this Apache configuration; wait for it, or remove ${file} if that process is not trac-deploy`);
    }
    staleFrom = Number.isInteger(holder) ? holder : null;
    // Take the stale lock over: rename is atomic, so two runs cannot both remove it.
    const grave = `${file}.stale.${process.pid}`;
    await fs.rename(file, grave).catch(() => undefined);
    await fs.rm(grave, { force: true });
  }
  throw usageError(`could not take the lock ${file}; remove it if no trac-deploy is running`);
}
