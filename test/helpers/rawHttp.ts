import http from 'node:http';
import https from 'node:https';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  port: number;
  path: string;
  /** The Host header (e.g. "trac.test:8443"); the connection always goes to 127.0.0.1. */
  host?: string;
  headers?: Record<string, string>;
  /** https with this CA (the test's own certificate) and SNI name. */
  tls?: { ca: string; servername: string };
  /** The client address: 127.0.0.1 or another loopback address such as 127.0.0.2. */
  localAddress?: string;
  method?: string;
  timeoutMs?: number;
}

/**
 * One request to 127.0.0.1 with node's own http/https (fetch cannot set Host, a CA or the
 * client address). No redirects are followed; no connection is reused.
 */
export function rawRequest(options: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const common = {
      host: '127.0.0.1',
      port: options.port,
      path: options.path,
      method: options.method ?? 'GET',
      agent: false as const,
      headers: { ...(options.host ? { Host: options.host } : {}), ...(options.headers ?? {}) },
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      timeout: options.timeoutMs ?? 60000,
    };
    const req = options.tls
      ? https.request({ ...common, ca: options.tls.ca, servername: options.tls.servername })
      : http.request(common);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from 127.0.0.1:${options.port}${options.path} within ${common.timeout} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The trac_auth cookie line of a response (whole Set-Cookie value), or null. */
export function tracAuthSetCookie(response: RawResponse): string | null {
  return (response.headers['set-cookie'] ?? []).find((line) => line.startsWith('trac_auth=')) ?? null;
}
