import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { usageError } from '../errors.js';

/**
 * The Apache installation `apply` changes: where snippets go, how it is enabled, and the
 * control script that tests and reloads it. Debian: <root>/conf-available + a conf-enabled
 * symlink (what a2enconf makes), driven by apache2ctl with APACHE_CONFDIR=<root>, so a tree
 * other than /etc/apache2 (with its own envvars) is handled exactly like the system one.
 * RHEL: <root>/conf.d, driven by apachectl/httpd -d <root>.
 */
export interface ApacheTarget {
  family: 'debian' | 'rhel';
  root: string;
  /** Where the snippet file goes. */
  installDir: string;
  /** Debian: where the enabling symlink goes (a2enconf's conf-enabled). */
  enabledDir: string | null;
  /** Whole sites (<VirtualHost>): Debian sites-available + sites-enabled (a2ensite); RHEL conf.d. */
  siteInstallDir: string;
  siteEnabledDir: string | null;
  /** The control script and the environment it needs. */
  ctl: string;
  ctlArgs: string[];
  env: Record<string, string>;
  /** Journal, backups and lock. */
  stateDir: string;
}

export interface TargetOptions {
  apacheRoot?: string | undefined;
  apacheCtl?: string | undefined;
  stateDir?: string | undefined;
}

const SYSTEM_ROOTS = ['/etc/apache2', '/etc/httpd'];

export async function resolveTarget(options: TargetOptions): Promise<ApacheTarget> {
  const root = options.apacheRoot ? path.resolve(options.apacheRoot) : SYSTEM_ROOTS.find((r) => fs.existsSync(r));
  if (!root) throw usageError('no Apache configuration found (looked for /etc/apache2 and /etc/httpd); name it with --apache-root');
  const stat = await fs.stat(root).catch(() => null);
  if (!stat?.isDirectory()) throw usageError(`--apache-root ${root}: no such directory`);
  const isSystem = SYSTEM_ROOTS.includes(root);
  const stateDir = path.resolve(options.stateDir ?? (isSystem ? '/var/lib/trac-deploy' : path.join(root, '.trac-deploy')));
  if (fs.existsSync(path.join(root, 'conf-available')) && fs.existsSync(path.join(root, 'conf-enabled'))) {
    const ctl = options.apacheCtl ?? '/usr/sbin/apache2ctl';
    return {
      family: 'debian',
      root,
      installDir: path.join(root, 'conf-available'),
      enabledDir: path.join(root, 'conf-enabled'),
      siteInstallDir: path.join(root, 'sites-available'),
      siteEnabledDir: path.join(root, 'sites-enabled'),
      ctl,
      ctlArgs: [],
      env: { APACHE_CONFDIR: root, APACHE_STARTED_BY_SYSTEMD: isSystem ? '' : '1' },
      stateDir,
    };
  }
  if (fs.existsSync(path.join(root, 'conf.d'))) {
    return {
      family: 'rhel',
      root,
      installDir: path.join(root, 'conf.d'),
      enabledDir: null,
      siteInstallDir: path.join(root, 'conf.d'),
      siteEnabledDir: null,
      ctl: options.apacheCtl ?? '/usr/sbin/httpd',
      ctlArgs: ['-d', root],
      env: {},
      stateDir,
    };
  }
  throw usageError(`--apache-root ${root} has neither conf-available/ + conf-enabled/ (Debian) nor conf.d/ (RHEL); name the directory that holds Apache's main configuration`);
}

export interface CtlResult {
  ok: boolean;
  output: string;
}

/** Run the control script with arguments (`-t`, `-M`, `-k graceful`, ...). */
export async function ctl(target: ApacheTarget, args: string[]): Promise<CtlResult> {
  const result = await execa(target.ctl, [...target.ctlArgs, ...args], {
    reject: false,
    all: true,
    stdin: 'ignore',
    env: target.env,
  });
  if (result.failed && result.exitCode === undefined) {
    throw usageError(`${target.ctl}: ${result.shortMessage}; name the control script with --apache-ctl`);
  }
  return { ok: result.exitCode === 0, output: String(result.all ?? '').trim() };
}

export const configTest = (target: ApacheTarget) => ctl(target, ['-t']);

/** Debian's apache2ctl tests the configuration itself before a graceful restart. */
export const gracefulReload = (target: ApacheTarget) =>
  ctl(target, target.family === 'debian' ? ['graceful'] : ['-k', 'graceful']);

/** `-t -D DUMP_RUN_CFG`: User, Group, PidFile, ... as "Key: value" lines. */
export function parseRunConfig(output: string): { user: string | null; group: string | null; pidFile: string | null; serverRoot: string | null } {
  const get = (re: RegExp) => re.exec(output)?.[1] ?? null;
  return {
    user: get(/^User: name="([^"]*)"/m),
    group: get(/^Group: name="([^"]*)"/m),
    pidFile: get(/^PidFile: "([^"]*)"/m),
    serverRoot: get(/^ServerRoot: "([^"]*)"/m),
  };
}

export async function runConfig(target: ApacheTarget): Promise<ReturnType<typeof parseRunConfig>> {
  return parseRunConfig((await ctl(target, ['-t', '-D', 'DUMP_RUN_CFG'])).output);
}

/** The pid of the running server, or null when it is not running. */
export async function runningPid(pidFile: string | null): Promise<number | null> {
  if (!pidFile) return null;
  const text = await fs.readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) return null;
  return processAlive(pid) ? pid : null;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
