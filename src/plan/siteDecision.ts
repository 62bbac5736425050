import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { checkTlsFiles } from '../inspect/tlsFiles.js';
import type { GenerateOptions } from './options.js';
import type { SitePlan } from './types.js';
import { apacheSafePath } from './validate.js';

type SiteOptions = Pick<GenerateOptions, 'serverName' | 'serverAlias' | 'tlsCert' | 'tlsKey' | 'tlsChain' | 'hsts' | 'httpPort' | 'httpsPort' | 'logDir'>;

export interface SiteDecision {
  site: SitePlan | null;
  modules: string[];
  notes: string[];
}

/** A DNS name (or IPv4 address) as ServerName takes it: letters, digits, hyphens, dots. */
const HOST = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** ServerAlias also takes wildcards: *.example.org. */
const ALIAS = /^(?:\*\.)?[A-Za-z0-9.-]+$/;

/**
 * --server-name and friends: a whole site with <VirtualHost>s, its own logs, and with TLS an
 * https host plus an http host that redirects to it. Without --server-name the flags that
 * only make sense for a site are refused rather than silently ignored.
 */
export async function decideSite(options: SiteOptions, name: string): Promise<SiteDecision> {
  checkPort('--http-port', options.httpPort);
  checkPort('--https-port', options.httpsPort);
  const tlsGiven = Boolean(options.tlsCert || options.tlsKey || options.tlsChain);
  if (!options.serverName) {
    const stray = [
      ...(options.serverAlias.length > 0 ? ['--server-alias'] : []),
      ...(tlsGiven ? ['--tls-cert/--tls-key/--tls-chain'] : []),
      ...(options.hsts ? ['--hsts'] : []),
      ...(options.logDir ? ['--log-dir'] : []),
    ];
    if (stray.length > 0) throw usageError(`${stray.join(', ')} need${stray.length === 1 ? 's' : ''} --server-name: they describe a whole site (<VirtualHost>), not a snippet`);
    return { site: null, modules: [], notes: [] };
  }
  const serverName = options.serverName;
  if (!HOST.test(serverName)) throw usageError(`--server-name ${JSON.stringify(serverName)} is not a host name (letters, digits, hyphens and dots, e.g. trac.example.org)`);
  for (const alias of options.serverAlias) {
    if (!ALIAS.test(alias)) throw usageError(`--server-alias ${JSON.stringify(alias)} is not a host name (a leading *. is allowed)`);
  }
  if (tlsGiven && !(options.tlsCert && options.tlsKey)) throw usageError('--tls-cert and --tls-key go together (certbot: fullchain.pem and privkey.pem of /etc/letsencrypt/live/NAME/)');
  if (options.hsts && !options.tlsCert) throw usageError('--hsts needs --tls-cert and --tls-key: Strict-Transport-Security is sent by the https host');
  if (options.tlsCert && options.httpPort === options.httpsPort) throw usageError(`--http-port and --https-port are both ${options.httpPort}; give them different ports`);
  const notes: string[] = [];
  const modules: string[] = [];
  let tls: SitePlan['tls'] = null;
  if (options.tlsCert && options.tlsKey) {
    const cert = absolute('--tls-cert', options.tlsCert);
    const key = absolute('--tls-key', options.tlsKey);
    const chain = options.tlsChain ? absolute('--tls-chain', options.tlsChain) : null;
    notes.push(...(await checkTlsFiles({ cert, key, chain }, serverName)).notes);
    tls = { cert, key, chain, hsts: options.hsts };
    modules.push('ssl', 'alias', ...(options.hsts ? ['headers'] : []));
  }
  const logDir = apacheSafePath('--log-dir', path.resolve(options.logDir ?? defaultLogDir()));
  const ports = tls ? [options.httpPort, options.httpsPort] : [options.httpPort];
  const unusual = ports.filter((p) => p !== 80 && p !== 443);
  if (unusual.length > 0) notes.push(`port${unusual.length === 1 ? '' : 's'} ${unusual.join(', ')}: Apache listens there only with a Listen line in ports.conf (Debian) or httpd.conf; this site file holds none`);
  notes.push(`a whole site for ${serverName}: apply installs it into sites-available/ and enables it (a2ensite; conf.d/ on RHEL), logs in ${logDir}`);
  return {
    site: {
      serverName,
      aliases: [...new Set(options.serverAlias)],
      httpPort: options.httpPort,
      httpsPort: options.httpsPort,
      tls,
      redirectTo: tls ? `https://${options.httpsPort === 443 ? serverName : `${serverName}:${options.httpsPort}`}` : null,
      errorLog: path.join(logDir, `${name}-error.log`),
      accessLog: path.join(logDir, `${name}-access.log`),
      installAs: 'site',
    },
    modules,
    notes,
  };
}

function checkPort(flag: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`${flag}${Number.isNaN(port) ? '' : ` ${port}`} must be a port number from 1 to 65535`);
}

/** The path as given, made absolute: certbot's live/ links must stay links so renewals take effect. */
function absolute(flag: string, file: string): string {
  return apacheSafePath(flag, path.resolve(file));
}

function defaultLogDir(): string {
  return ['/var/log/apache2', '/var/log/httpd'].find((d) => fs.existsSync(d)) ?? '/var/log/apache2';
}

/**
 * The URL the site is reached at, when the plan knows the host: https with TLS here or at a
 * proxy in front (which serves the default port), else http; a port other than the scheme's
 * default is part of it.
 */
export function publicUrlOf(site: SitePlan | null, behindProxy: boolean, urlPrefix: string): string | null {
  if (!site) return null;
  const https = site.tls !== null || behindProxy;
  const port = site.tls ? site.httpsPort : behindProxy ? null : site.httpPort;
  const defaultPort = https ? 443 : 80;
  const host = port === null || port === defaultPort ? site.serverName : `${site.serverName}:${port}`;
  return `${https ? 'https' : 'http'}://${host}${urlPrefix === '/' ? '' : urlPrefix}`;
}
