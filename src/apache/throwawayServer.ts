import { execa, type ResultPromise } from 'execa';
import fs from 'fs-extra';
import getPort from 'get-port';
import os from 'node:os';
import path from 'node:path';
import { OWNER_FILE, ownerRecord, reapOrphans } from './reapOrphans.js';
import { findApache, type ApacheLayout } from './layout.js';
import { serverConfig, type ServerConfigOptions } from './serverConfig.js';

export interface ThrowawayOptions extends Partial<Pick<ServerConfigOptions, 'modules' | 'logLevel' | 'extra'>> {
  /**
   * Configuration files to Include, or a function that writes them into the server's own
   * directory (removed with it) and returns their paths.
   */
  includes: string[] | ((root: string) => Promise<string[]>);
  layout?: ApacheLayout;
  /** How long to wait for the first answer. */
  startTimeoutMs?: number;
}

export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly errorLog: string,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

const live = new Set<ThrowawayServer>();
/** Directories made for a server that has not been started yet (removed on exit too). */
const pendingRoots = new Set<string>();
let exitHooked = false;
/** How long Apache gets to stop on SIGTERM before the group is killed (a hung request would hold it). */
const STOP_GRACE_MS = 3000;

/**
 * An Apache httpd in its own temp directory, in the foreground as our child (its own process
 * group), on 127.0.0.1 and a free port. stop() ends it and its mod_wsgi daemons and removes
 * the directory; servers still running when the process exits or is interrupted are stopped.
 */
export class ThrowawayServer {
  private stopped = false;

  private constructor(
    readonly root: string,
    readonly port: number,
    readonly layout: ApacheLayout,
    private readonly child: ResultPromise,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(urlPath: string): string {
    return this.baseUrl + (urlPath.startsWith('/') ? urlPath : `/${urlPath}`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async errorLog(): Promise<string> {
    return fs.readFile(path.join(this.root, 'error.log'), 'utf8').catch(() => '');
  }

  async accessLog(): Promise<string> {
    return fs.readFile(path.join(this.root, 'access.log'), 'utf8').catch(() => '');
  }

  static async start(options: ThrowawayOptions): Promise<ThrowawayServer> {
    const layout = options.layout ?? findApache();
    const asRoot = process.getuid?.() === 0;
    hookExit();
    // Servers left by a smoke killed with SIGKILL: stopped and removed (best effort).
    await reapOrphans().catch(() => undefined);
    let lastError: ServerStartError | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = await ThrowawayServer.launch(layout, asRoot, options);
      try {
        await server.waitUntilAnswering(options.startTimeoutMs ?? 15000);
        return server;
      } catch (error) {
        await server.stop({ keepRoot: false });
        if (!(error instanceof ServerStartError)) throw error;
        lastError = error;
        if (!/Address already in use|could not bind/i.test(error.errorLog)) break;
      }
    }
    throw lastError ?? new ServerStartError('Apache did not start', '');
  }

  /** Make the directory and config, start the child; the directory is tracked from the first moment. */
  private static async launch(layout: ApacheLayout, asRoot: boolean, options: ThrowawayOptions): Promise<ThrowawayServer> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-httpd-'));
    pendingRoots.add(root);
    try {
      // mkdtemp makes 0700; the Apache user must reach the mod_wsgi sockets in here.
      await fs.chmod(root, 0o755);
      await fs.writeFile(path.join(root, OWNER_FILE), await ownerRecord());
      await fs.mkdir(path.join(root, 'htdocs'));
      const includes = typeof options.includes === 'function' ? await options.includes(root) : options.includes;
      const port = await getPort({ host: '127.0.0.1' });
      const conf = path.join(root, 'httpd.conf');
      await fs.writeFile(conf, serverConfig(layout, { root, port, asRoot, includes, ...pick(options) }));
      const server = new ThrowawayServer(root, port, layout, startChild(layout, conf));
      live.add(server);
      return server;
    } catch (error) {
      await fs.remove(root);
      throw error;
    } finally {
      pendingRoots.delete(root);
    }
  }

  private async waitUntilAnswering(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.child.then(() => {
      exited = true;
    });
    while (Date.now() < deadline) {
      if (exited) {
        const result = await this.child;
        const log = (await this.errorLog()) + String(result.all ?? '');
        throw new ServerStartError(`Apache exited at start (code ${result.exitCode ?? result.signal})`, log);
      }
      try {
        const response = await fetch(this.url('/__trac_deploy_probe__'), { signal: AbortSignal.timeout(1000) });
        await response.arrayBuffer();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    throw new ServerStartError(`Apache did not answer on 127.0.0.1:${this.port} within ${timeoutMs} ms`, await this.errorLog());
  }

  /** Stop the server and its children, then remove its directory (unless keepRoot). */
  async stop({ keepRoot = false }: { keepRoot?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    const pid = this.child.pid;
    if (pid !== undefined && this.child.exitCode === null) {
      killGroup(pid, 'SIGTERM');
      const exited = await Promise.race([this.child.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
      if (!exited) killGroup(pid, 'SIGKILL');
      await this.child;
    }
    // mod_wsgi daemons leave the group only by dying; make sure none is left.
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    if (!keepRoot) await fs.remove(this.root);
  }
}

/**
 * The server in the foreground, in its own process group. On Debian through /etc/apache2/envvars
 * (as apache2ctl does: LANG=C and the APACHE_* variables a real server has); elsewhere httpd itself.
 */
function startChild(layout: ApacheLayout, conf: string): ResultPromise {
  const args = ['-f', conf, '-D', 'FOREGROUND'];
  const options = { detached: true, reject: false, stdin: 'ignore', all: true } as const;
  if (layout.envvars) {
    return execa('/bin/sh', ['-c', '. "$1" && shift && exec "$@"', 'sh', layout.envvars, layout.binary, ...args], {
      ...options,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      extendEnv: false,
    });
  }
  return execa(layout.binary, args, { ...options, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' }, extendEnv: false });
}

function pick(options: ThrowawayOptions): Partial<ServerConfigOptions> {
  const out: Partial<ServerConfigOptions> = {};
  if (options.modules) out.modules = options.modules;
  if (options.logLevel) out.logLevel = options.logLevel;
  if (options.extra) out.extra = options.extra;
  return out;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => {
    for (const server of live) {
      if (server.pid !== undefined) killGroup(server.pid, 'SIGKILL');
      fs.removeSync(server.root);
    }
    for (const root of pendingRoots) fs.removeSync(root);
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (os.constants.signals[signal] ?? 1));
    });
  }
}

/** Run fn with a started server; the server is stopped whatever fn does. */
export async function withThrowawayServer<T>(options: ThrowawayOptions, fn: (server: ThrowawayServer) => Promise<T>): Promise<T> {
  const server = await ThrowawayServer.start(options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
