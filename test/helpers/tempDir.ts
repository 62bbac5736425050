import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

afterEach(async () => {
  for (const dir of made.splice(0)) await fs.remove(dir);
});

/**
 * A fresh directory for one test, removed after it (pass or fail). Opened to 0755 so the
 * Apache user can reach what the test puts inside.
 */
export async function tempDir(prefix = 'trac-deploy-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(dir, 0o755);
  made.push(dir);
  return dir;
}
