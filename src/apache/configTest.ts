import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { findApache, type ApacheLayout } from './layout.js';
import { serverConfig } from './serverConfig.js';

export interface ConfigTestResult {
  ok: boolean;
  output: string;
}

/**
 * `apache2ctl -t` (Debian, through envvars) or `httpd -t` on a minimal server config that
 * loads mod_wsgi and includes the given files. Nothing is started.
 */
export async function configTest(includes: string[], options: { modules?: string[]; layout?: ApacheLayout } = {}): Promise<ConfigTestResult> {
  const layout = options.layout ?? findApache();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-configtest-'));
  try {
    const conf = path.join(root, 'httpd.conf');
    await fs.mkdirp(path.join(root, 'htdocs'));
    const text = serverConfig(layout, {
      root,
      port: 8,
      asRoot: process.getuid?.() === 0,
      includes,
      ...(options.modules ? { modules: options.modules } : {}),
    });
    // serverConfig names <root>/htdocs as DocumentRoot, which -t wants to exist.
    await fs.mkdirp(path.join(root, 'htdocs'));
    await fs.writeFile(conf, text);
    const command = layout.family === 'debian' ? layout.ctl : layout.binary;
    // Loaded when used: execa costs start-up time on every run that never calls it.
    const { execa } = await import('execa');
    const result = await execa(command, ['-t', '-f', conf], { reject: false, all: true, stdin: 'ignore' });
    return { ok: result.exitCode === 0, output: String(result.all ?? '').trim() };
  } finally {
    await fs.remove(root);
  }
}
