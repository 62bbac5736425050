import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ThrowawayServer } from '../../src/apache/throwawayServer.js';
import { ROOT } from '../helpers/paths.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a throwaway server whose owner was killed with SIGKILL', () => {
  it('is stopped and its directory removed by the next throwaway server', async () => {
    const owner = execa('node', ['--input-type=module', '-e', `
      import { ThrowawayServer } from ${JSON.stringify(path.join(ROOT, 'dist', 'apache', 'throwawayServer.js'))};
      const s = await ThrowawayServer.start({ includes: [] });
      console.log(JSON.stringify({ root: s.root, port: s.port }));
      setInterval(() => {}, 1000);
    `], { reject: false, stdin: 'ignore' });
    const line = await new Promise<string>((resolve) => owner.stdout?.on('data', (c: Buffer) => resolve(c.toString())));
    const { root, port } = JSON.parse(line) as { root: string; port: number };
    const apachePid = Number((await fs.readFile(path.join(root, 'httpd.pid'), 'utf8')).trim());
    try {
      owner.kill('SIGKILL');
      await owner;
      // the killed owner could not stop it: Apache still answers
      expect(alive(apachePid)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBeGreaterThan(0);
      const next = await ThrowawayServer.start({ includes: [] });
      await next.stop();
      expect(alive(apachePid)).toBe(false);
      expect(await fs.pathExists(root)).toBe(false);
    } finally {
      if (alive(apachePid)) process.kill(-apachePid, 'SIGKILL');
      await fs.remove(root);
    }
  }, 60000);
});
