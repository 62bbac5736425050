import { execa } from 'execa';
import fs from 'fs-extra';
import getPort from 'get-port';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './paths.js';

/**
 * A throwaway Apache laid out like Debian's /etc/apache2 (apache2.conf, envvars, ports.conf,
 * mods-enabled, conf-available, conf-enabled) with its own run, lock and log directories under
 * the tree, listening on 127.0.0.1 and a free port. Driven by the real apache2ctl with
 * APACHE_CONFDIR=<tree>, the way trac-deploy apply drives it. A site is already there: /hello
 * serves a static page from <tree>/www, so a test can tell the old configuration still answers.
 */
export interface DebianTree {
  root: string;
  port: number;
  url: (p: string) => string;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  pid: () => Promise<number | null>;
  errorLog: () => Promise<string>;
}

const MODULES = ['mpm_event', 'authz_core', 'authz_host', 'authn_core', 'alias', 'mime', 'dir', 'env', 'wsgi'];
export const HELLO_TEXT = 'the previous site is still here';

export async function makeDebianTree(parent: string): Promise<DebianTree> {
  const root = path.join(parent, 'apache2');
  const port = await getPort({ host: '127.0.0.1' });
  for (const d of ['mods-enabled', 'conf-available', 'conf-enabled', 'sites-available', 'sites-enabled', 'run', 'lock', 'log', 'www']) await fs.mkdirp(path.join(root, d));
  await fs.writeFile(
    path.join(root, 'envvars'),
    [
      'unset HOME',
      'export APACHE_RUN_USER=www-data',
      'export APACHE_RUN_GROUP=www-data',
      `export APACHE_PID_FILE=${root}/run/apache2.pid`,
      `export APACHE_RUN_DIR=${root}/run`,
      `export APACHE_LOCK_DIR=${root}/lock`,
      `export APACHE_LOG_DIR=${root}/log`,
      'export LANG=C',
      '',
    ].join('\n'),
  );
  await fs.writeFile(
    path.join(root, 'apache2.conf'),
    [
      'DefaultRuntimeDir ${APACHE_RUN_DIR}',
      'PidFile ${APACHE_PID_FILE}',
      `Mutex file:${root}/lock default`,
      'Timeout 60',
      'KeepAlive Off',
      'User ${APACHE_RUN_USER}',
      'Group ${APACHE_RUN_GROUP}',
      'ServerName 127.0.0.1',
      'ErrorLog ${APACHE_LOG_DIR}/error.log',
      'LogLevel info',
      'IncludeOptional mods-enabled/*.load',
      'IncludeOptional mods-enabled/*.conf',
      'Include ports.conf',
      '<Directory />',
      '    Options FollowSymLinks',
      '    AllowOverride None',
      '    Require all denied',
      '</Directory>',
      'IncludeOptional conf-enabled/*.conf',
      'IncludeOptional sites-enabled/*.conf',
      '',
    ].join('\n'),
  );
  await fs.writeFile(path.join(root, 'ports.conf'), `Listen 127.0.0.1:${port}\n`);
  for (const m of MODULES) {
    await fs.writeFile(path.join(root, 'mods-enabled', `${m}.load`), `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so\n`);
  }
  await fs.writeFile(
    path.join(root, 'mods-enabled', 'mpm_event.conf'),
    '<IfModule mpm_event_module>\n    StartServers 1\n    ServerLimit 2\n    ThreadsPerChild 10\n    MaxRequestWorkers 20\n</IfModule>\n',
  );
  await fs.writeFile(path.join(root, 'mods-enabled', 'mime.conf'), 'TypesConfig /etc/mime.types\n');
  await fs.writeFile(path.join(root, 'mods-enabled', 'wsgi.conf'), `WSGISocketPrefix ${root}/run/wsgi\n`);
  await fs.writeFile(path.join(root, 'www', 'index.html'), `${HELLO_TEXT}\n`);
  await fs.writeFile(
    path.join(root, 'conf-available', 'hello.conf'),
    `Alias /hello ${root}/www\n<Directory ${root}/www>\n    Require all granted\n    DirectoryIndex index.html\n</Directory>\n`,
  );
  await fs.symlink('../conf-available/hello.conf', path.join(root, 'conf-enabled', 'hello.conf'));
  await fs.chown(path.join(root, 'log'), 33, 33);

  const env = { APACHE_CONFDIR: root, APACHE_STARTED_BY_SYSTEMD: '1' };
  const pid = async () => {
    const text = await fs.readFile(path.join(root, 'run', 'apache2.pid'), 'utf8').catch(() => '');
    const n = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(n) || n <= 1) return null;
    try {
      process.kill(n, 0);
      return n;
    } catch {
      return null;
    }
  };
  const tree: DebianTree = {
    root,
    port,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    pid,
    errorLog: () => fs.readFile(path.join(root, 'log', 'error.log'), 'utf8').catch(() => ''),
    start: async () => {
      const result = await execa('/usr/sbin/apache2ctl', ['start'], { env, reject: false, all: true, stdin: 'ignore' });
      if (result.exitCode !== 0) throw new Error(`apache2ctl start failed: ${result.all}`);
      const deadline = Date.now() + 15000;
      while (Date.now() < deadline) {
        try {
          const r = await fetch(tree.url('/hello/'), { signal: AbortSignal.timeout(1000) });
          await r.arrayBuffer();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error(`Apache in ${root} did not answer: ${await tree.errorLog()}`);
    },
    stop: async () => {
      const p = await pid();
      if (p === null) return;
      await execa('/usr/sbin/apache2ctl', ['stop'], { env, reject: false, stdin: 'ignore' });
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline && (await pid()) === p) await new Promise((r) => setTimeout(r, 50));
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // stopped
      }
      // mod_wsgi daemons that outlive their parent (a graceful restart in flight) go too: only
      // processes whose command line names this tree.
      await killTreeProcesses(root);
    },
  };
  return tree;
}

/** Every file and link under the tree's configuration directories, for before/after comparison. */
export async function snapshotConfig(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const dir of ['conf-available', 'conf-enabled', 'mods-enabled', 'sites-enabled']) {
    for (const name of (await fs.readdir(path.join(root, dir))).sort()) {
      const file = path.join(root, dir, name);
      const stat = await fs.lstat(file);
      out[`${dir}/${name}`] = stat.isSymbolicLink() ? `-> ${await fs.readlink(file)}` : `${(stat.mode & 0o777).toString(8)} ${await fs.readFile(file, 'utf8')}`;
    }
  }
  for (const name of ['apache2.conf', 'ports.conf', 'envvars']) out[name] = await fs.readFile(path.join(root, name), 'utf8');
  return out;
}

async function killTreeProcesses(root: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const pids: number[] = [];
    for (const entry of await fs.readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(root) && Number(entry) !== process.pid) pids.push(Number(entry));
    }
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, round < 10 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The whole tree byte for byte, as apply must leave it after a failure: every file (its bytes'
 * SHA-256, mode, owner), link (its target) and directory, except what the server itself writes
 * (run/, lock/, log/) and apply's state directory.
 */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const { createHash } = await import('node:crypto');
  const out: Record<string, string> = {};
  const skip = new Set(['run', 'lock', 'log', '.trac-deploy']);
  const walk = async (rel: string) => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (!rel && skip.has(name)) continue;
      const file = path.join(root, r);
      const stat = await fs.lstat(file);
      const meta = `${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`;
      if (stat.isSymbolicLink()) out[r] = `link -> ${await fs.readlink(file)}`;
      else if (stat.isDirectory()) {
        out[r] = `dir ${meta}`;
        await walk(r);
      } else out[r] = `file ${meta} ${createHash('sha256').update(await fs.readFile(file)).digest('hex')}`;
    }
  };
  await walk('');
  return out;
}

/**
 * Runs `trac-deploy apply DIR` against the tree, pauses it at a step (TRAC_DEPLOY_TEST_PAUSE_AT),
 * sends it `signal` there and returns how it ended.
 */
export async function applyInterruptedAt(treeRoot: string, dir: string, step: string, signal: NodeJS.Signals): Promise<{ code: number | undefined; signal: string | undefined; stderr: string }> {
  const child = execa('node', [CLI, 'apply', dir, '--apache-root', treeRoot], {
    reject: false,
    stdin: 'ignore',
    env: { NO_COLOR: '1', TRAC_DEPLOY_TEST_PAUSE_AT: step },
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`paused at ${step}`)) resolve();
    });
    void child.then(() => reject(new Error(`apply ended before pausing at ${step}: ${stderr}`)));
  });
  child.kill(signal);
  const result = await child;
  return { code: result.exitCode, signal: result.signal, stderr: String(result.stderr) };
}

/** A tree in a temp directory of its own, started. disposeTree stops it and removes that directory. */
export async function startTempTree(): Promise<DebianTree> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-tree-'));
  await fs.chmod(parent, 0o755);
  const tree = await makeDebianTree(parent);
  await tree.start();
  return tree;
}

export async function disposeTree(tree: DebianTree | null): Promise<void> {
  if (!tree) return;
  await tree.stop();
  await fs.remove(path.dirname(tree.root));
}
