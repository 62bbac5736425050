import getPort from 'get-port';
import http from 'node:http';
import https from 'node:https';
import type { DeploymentPlan } from '../plan/types.js';
import { MAX_BODY_BYTES, tooLarge } from './fetchPage.js';
import type { SmokeTarget } from './targets.js';

/** Where smoke reaches a whole site (a plan with --server-name): its virtual hosts moved to free loopback ports. */
export interface SiteEndpoint {
  scheme: 'http' | 'https';
  /** The port smoke requests (the https host with TLS, else the http host). */
  port: number;
  /** Host header: the site's ServerName and the port. */
  host: string;
  /** Listen lines the throwaway server needs for the moved virtual hosts. */
  listen: string[];
  /** The plan with the ports moved, rendered by the same template. */
  plan: DeploymentPlan;
}

/**
 * A site's <VirtualHost *:80> / *:443 never match a connection to the throwaway server's own
 * port: the same plan is rendered again with the site's ports moved to free ports of
 * 127.0.0.1 (what --http-port/--https-port do), and the pages are asked for there.
 */
export async function siteEndpoints(targets: SmokeTarget[]): Promise<Map<string, SiteEndpoint>> {
  const out = new Map<string, SiteEndpoint>();
  const taken: number[] = [];
  const port = async () => {
    const p = await getPort({ host: '127.0.0.1', exclude: taken });
    taken.push(p);
    return p;
  };
  for (const target of targets) {
    const site = target.plan?.site;
    if (!target.plan || !site) continue;
    const httpPort = await port();
    const httpsPort = site.tls ? await port() : httpPort;
    const moved = {
      ...site,
      httpPort,
      httpsPort,
      redirectTo: site.tls ? `https://${site.serverName}:${httpsPort}` : null,
    };
    out.set(target.name, {
      scheme: site.tls ? 'https' : 'http',
      port: site.tls ? httpsPort : httpPort,
      host: `${site.serverName}:${site.tls ? httpsPort : httpPort}`,
      listen: site.tls ? [`Listen 127.0.0.1:${httpPort}`, `Listen 127.0.0.1:${httpsPort} https`] : [`Listen 127.0.0.1:${httpPort}`],
      plan: { ...target.plan, site: moved },
    });
  }
  return out;
}

export interface PlainResponse {
  status: number;
  contentType: string | null;
  location: string | null;
  body: string;
  /** Bytes of the body as received (fewer than Content-Length when the connection closed early). */
  length: number;
  headers: { get(name: string): string | null };
}

/**
 * One GET to 127.0.0.1 with the site's Host header. The certificate is not verified here: it
 * names the public host, not 127.0.0.1 (smoke --url checks it on the live site).
 */
export function getFromSite(endpoint: Pick<SiteEndpoint, 'scheme' | 'host' | 'port'>, urlPath: string, timeoutMs: number): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port: endpoint.port, path: urlPath, headers: { Host: endpoint.host }, agent: false as const, timeout: timeoutMs };
    const req = endpoint.scheme === 'https' ? https.request({ ...options, rejectUnauthorized: false, servername: endpoint.host.replace(/:\d+$/, '') }) : http.request(options);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const get = (name: string): string | null => {
        const value = res.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      };
      // A connection closed before Content-Length bytes came is a broken download, not a failed
      // request: what was received is judged (as the fetch of the throwaway server's own port does).
      let done = false;
      let received = 0;
      const finish = () => {
        if (done) return;
        done = true;
        if (received > MAX_BODY_BYTES) {
          reject(new Error(tooLarge()));
          return;
        }
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, contentType: get('content-type'), location: get('location'), body: body.toString('utf8'), length: body.length, headers: { get } });
      };
      res.on('data', (c: Buffer) => {
        received += c.length;
        if (received <= MAX_BODY_BYTES) {
          chunks.push(c);
          return;
        }
        finish();
        req.destroy();
      });
      res.on('end', finish);
      res.on('aborted', finish);
      res.on('error', finish);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end();
  });
}
