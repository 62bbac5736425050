import fs from 'fs-extra';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import path from 'node:path';
import type { DeploymentPlan } from '../plan/types.js';
import type { ApacheTarget } from './target.js';

/**
 * What apply looks at to say a reload worked: the server's parent process (pid file and
 * /proc), the processes it forked (a graceful restart forks a new generation only after the new
 * configuration was read and every Listen bound), its listening sockets (/proc/<pid>/net), and
 * HTTP answers on them.
 */

/** pids whose parent is `pid`. */
export async function childrenOf(pid: number): Promise<Set<number>> {
  const out = new Set<number>();
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ")"
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.add(Number(entry));
  }
  return out;
}

/** host:port pairs the process listens on (TCP), as URLs' authority parts; null when /proc cannot tell. */
export async function listenAddresses(pid: number): Promise<string[] | null> {
  const inodes = new Set<string>();
  try {
    for (const fd of await fs.readdir(`/proc/${pid}/fd`)) {
      const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m?.[1]) inodes.add(m[1]);
    }
  } catch {
    return null;
  }
  const out: string[] = [];
  for (const [file, v6] of [['tcp', false], ['tcp6', true]] as const) {
    const text = await fs.readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (!local || state !== '0A' || !inode || !inodes.has(inode)) continue;
      const [hexAddr = '', hexPort = '0'] = local.split(':');
      const port = Number.parseInt(hexPort, 16);
      out.push(`${v6 ? ipv6(hexAddr) : ipv4(hexAddr)}:${port}`);
    }
  }
  return [...new Set(out)].sort();
}

function ipv4(hex: string): string {
  const bytes = (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)).reverse();
  const addr = bytes.join('.');
  return addr === '0.0.0.0' ? '127.0.0.1' : addr;
}

function ipv6(hex: string): string {
  if (/^0+$/.test(hex)) return '[::1]';
  // four 32-bit words, each in host (little-endian) order
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse());
  const v4mapped = bytes.slice(0, 10).every((b) => b === '00') && bytes[10] === 'ff' && bytes[11] === 'ff';
  if (v4mapped) return bytes.slice(12).map((b) => Number.parseInt(b, 16)).join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(Number.parseInt(`${bytes[i]}${bytes[i + 1]}`, 16).toString(16));
  return `[${groups.join(':')}]`;
}

/**
 * Where a mount point is served: a URL path and, for a name-based virtual host, the host name
 * to send (Host header and TLS server name) and the ports it answers on with their schemes.
 * `ports: null` is a mount of the main server (a conf-available snippet): every address.
 */
export interface MountCheck {
  path: string;
  host: string | null;
  ports: { port: number; scheme: 'http' | 'https'; redirectTo: string | null }[] | null;
}

/** One HTTP request apply makes: where to connect, and what to send as Host. */
export interface Probe {
  scheme: 'http' | 'https';
  /** host:port Apache listens on, as listenAddresses gives it. */
  address: string;
  path: string;
  /** The site's ServerName (Host header, TLS server name); null sends the address, as a bare URL would. */
  host: string | null;
  /** The answer expected is a redirect to this URL (the http host of a TLS site), else the mount itself. */
  redirectTo: string | null;
}

/** The mount checks of a plan: its site's name, ports and schemes, or every address for a snippet. */
export function mountCheckOf(plan: Pick<DeploymentPlan, 'urlPrefix' | 'site'>): MountCheck {
  const site = plan.site;
  if (!site) return { path: plan.urlPrefix, host: null, ports: null };
  const ports: NonNullable<MountCheck['ports']> = site.tls
    ? [
        { port: site.httpsPort, scheme: 'https', redirectTo: null },
        { port: site.httpPort, scheme: 'http', redirectTo: site.redirectTo },
      ]
    : [{ port: site.httpPort, scheme: 'http', redirectTo: null }];
  return { path: plan.urlPrefix, host: site.serverName, ports };
}

/**
 * The requests that check a mount on a server listening on `addresses`: for a site, only the
 * addresses with one of its ports (each with its scheme); `missing` names the site's ports
 * Apache does not listen on at all.
 */
export function probesFor(mount: MountCheck, addresses: string[]): { probes: Probe[]; missing: number[] } {
  const path = mount.path.endsWith('/') ? mount.path : `${mount.path}/`;
  if (!mount.ports) return { probes: addresses.map((address) => ({ scheme: 'http', address, path, host: null, redirectTo: null })), missing: [] };
  const probes: Probe[] = [];
  const missing: number[] = [];
  for (const { port, scheme, redirectTo } of mount.ports) {
    const matching = addresses.filter((a) => portOf(a) === port);
    if (matching.length === 0) missing.push(port);
    for (const address of matching) probes.push({ scheme, address, path, host: mount.host, redirectTo });
  }
  return { probes, missing };
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/**
 * Mount points of the enabled configuration (Alias, ScriptAlias, WSGIScriptAlias, in the
 * directories apply manages and sites-enabled/): the sites that must still answer afterwards.
 * Inside a <VirtualHost> they carry its ServerName and ports (https where SSLEngine is on), so
 * they are asked as that host rather than as whichever virtual host is the default.
 */
export async function mountedPaths(target: ApacheTarget): Promise<MountCheck[]> {
  const dirs = [target.enabledDir ?? target.installDir, path.join(target.root, 'sites-enabled')];
  const out = new Map<string, MountCheck>();
  for (const dir of dirs) {
    for (const name of (await fs.readdir(dir).catch(() => [] as string[])).sort()) {
      if (!name.endsWith('.conf')) continue;
      const text = await fs.readFile(path.join(dir, name), 'utf8').catch(() => '');
      for (const mount of mountsInText(text)) out.set(JSON.stringify(mount), mount);
    }
  }
  return [...out.values()].slice(0, 50);
}

/** The mount points one configuration file declares, with the virtual host each is in. */
export function mountsInText(text: string): MountCheck[] {
  const out: MountCheck[] = [];
  let block: { ports: number[]; host: string | null; tls: boolean; paths: string[] } | null = null;
  const add = (paths: string[], host: string | null, ports: MountCheck['ports']) => {
    for (const p of paths) out.push({ path: p, host, ports });
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const open = /^<VirtualHost\s+([^>]*)>/i.exec(line);
    if (open) {
      const ports = (open[1] ?? '').split(/\s+/).map((a) => Number(/:(\d+)$/.exec(a)?.[1] ?? 80));
      block = { ports: [...new Set(ports)], host: null, tls: false, paths: [] };
      continue;
    }
    if (/^<\/VirtualHost>/i.test(line)) {
      if (block) {
        const scheme = block.tls ? 'https' : 'http';
        add(block.paths, block.host, block.ports.map((port) => ({ port, scheme, redirectTo: null })));
      }
      block = null;
      continue;
    }
    const alias = /^(?:Alias|ScriptAlias|WSGIScriptAlias)\s+"?(\/[^\s"]*)/i.exec(line);
    if (alias?.[1]) {
      const p = alias[1].endsWith('/') ? alias[1] : `${alias[1]}/`;
      if (block) block.paths.push(p);
      else add([p], null, null);
      continue;
    }
    if (!block) continue;
    const serverName = /^ServerName\s+"?([^\s":]+)/i.exec(line);
    if (serverName?.[1] && block.host === null) block.host = serverName[1];
    if (/^SSLEngine\s+on\b/i.test(line)) block.tls = true;
  }
  return out;
}

export interface Answer {
  probe: Probe;
  url: string;
  status: number | null;
  /** The Location header of a redirect. */
  location?: string;
  error?: string;
}

/**
 * One request as a browser of the site would make it: to the listening address, with the
 * site's name as Host (and as TLS server name), so a name-based virtual host answers rather
 * than the server's default one. The certificate is not verified here: this asks whether the
 * site answers on this server, whatever names its certificate carries.
 */
export function probe(p: Probe, timeoutMs = 30000): Promise<Answer> {
  const url = urlOf(p);
  const open = /^\[(.*)\]:(\d+)$/.exec(p.address) ?? /^(.*):(\d+)$/.exec(p.address);
  const hostname = open?.[1] ?? p.address;
  const port = Number(open?.[2] ?? (p.scheme === 'https' ? 443 : 80));
  const defaultPort = p.scheme === 'https' ? 443 : 80;
  const host = p.host ? (port === defaultPort ? p.host : `${p.host}:${port}`) : p.address;
  const options: https.RequestOptions = { hostname, port, path: p.path, method: 'GET', agent: false, headers: { host, 'user-agent': 'trac-deploy apply' } };
  if (p.scheme === 'https') {
    options.rejectUnauthorized = false;
    if (p.host && isIP(p.host) === 0) options.servername = p.host;
  }
  return new Promise((resolve) => {
    const done = (answer: Omit<Answer, 'probe' | 'url'>) => {
      clearTimeout(timer);
      resolve({ probe: p, url, ...answer });
    };
    const req = (p.scheme === 'https' ? https : http).request(options, (res) => {
      res.resume();
      const location = res.headers.location;
      res.on('end', () => done({ status: res.statusCode ?? null, ...(location ? { location } : {}) }));
      res.on('error', (error) => done({ status: null, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'timeout' })), timeoutMs);
    req.on('error', (error) => done({ status: null, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

function urlOf(p: Probe): string {
  return `${p.scheme}://${p.address}${p.path}${p.host ? ` (Host: ${p.host})` : ''}`;
}

/** A site answers when Apache gives any HTTP answer but a server error. */
export const answered = (a: Answer) => a.status !== null && a.status < 500;
/**
 * A mount point answers when, besides, it is there (not 404); the http host of a TLS site
 * answers with a redirect to its https URL.
 */
export const mountAnswered = (a: Answer) => {
  if (!answered(a) || a.status === 404) return false;
  const redirectTo = a.probe.redirectTo;
  if (redirectTo === null) return true;
  return a.status !== null && a.status >= 300 && a.status < 400 && (a.location ?? '').startsWith(`${redirectTo}/`);
};

export function describe(a: Answer): string {
  if (a.status === null) return `${a.url}: no answer (${a.error ?? 'no response'})`;
  return `${a.url}: HTTP ${a.status}${a.location ? ` -> ${a.location}` : ''}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
