import fs from 'fs-extra';
import path from 'node:path';
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
 * URL paths the enabled configuration mounts (Alias, ScriptAlias, WSGIScriptAlias, in the
 * directories apply manages and sites-enabled/): the sites that must still answer afterwards.
 */
export async function mountedPaths(target: ApacheTarget): Promise<string[]> {
  const dirs = [target.enabledDir ?? target.installDir, path.join(target.root, 'sites-enabled')];
  const out = new Set<string>();
  for (const dir of dirs) {
    for (const name of (await fs.readdir(dir).catch(() => [] as string[])).sort()) {
      if (!name.endsWith('.conf')) continue;
      const text = await fs.readFile(path.join(dir, name), 'utf8').catch(() => '');
      for (const m of text.matchAll(/^\s*(?:Alias|ScriptAlias|WSGIScriptAlias)\s+"?(\/[^\s"]*)/gim)) {
        if (m[1]) out.add(m[1].endsWith('/') ? m[1] : `${m[1]}/`);
      }
    }
  }
  return [...out].sort().slice(0, 50);
}

export interface Answer {
  url: string;
  status: number | null;
  error?: string;
}

export async function probe(url: string, timeoutMs = 30000): Promise<Answer> {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    return { url, status: response.status };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { url, status: null, error: cause ?? (error as Error).message };
  }
}

/** A site answers when Apache gives any HTTP answer but a server error. */
export const answered = (a: Answer) => a.status !== null && a.status < 500;
/** A mount point answers when, besides, it is there (not 404). */
export const mountAnswered = (a: Answer) => answered(a) && a.status !== 404;

export function describe(a: Answer): string {
  return a.status === null ? `${a.url}: no answer (${a.error ?? 'no response'})` : `${a.url}: HTTP ${a.status}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
