import { isIP } from 'node:net';
import { usageError } from '../errors.js';
import type { DeploymentPlan } from './types.js';

/** The headers mod_wsgi takes from a trusted proxy: the scheme, the host, the client address. */
export const TRUSTED_PROXY_HEADERS = ['X-Forwarded-Proto', 'X-Forwarded-Host', 'X-Forwarded-For'];

/**
 * --behind-proxy ADDR...: IPv4/IPv6 addresses or CIDR ranges (as WSGITrustedProxies takes them).
 * mod_wsgi then applies X-Forwarded-* only from those addresses, so Trac builds https links
 * behind a TLS-terminating proxy, and a client talking to Apache directly cannot forge them.
 */
export function decideProxy(addresses: string[]): DeploymentPlan['proxy'] {
  if (addresses.length === 0) return null;
  for (const address of addresses) {
    const [ip, bits, ...rest] = address.split('/');
    const family = isIP(ip ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const badBits = bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits);
    if (family === 0 || badBits || rest.length > 0) {
      throw usageError(`--behind-proxy ${JSON.stringify(address)} is not an IP address or CIDR range (e.g. 10.0.0.5 or 10.0.0.0/24); name the proxies by address, not by host name`);
    }
  }
  return { trusted: [...new Set(addresses)], headers: TRUSTED_PROXY_HEADERS };
}
