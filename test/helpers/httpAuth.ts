import { createHash, randomBytes } from 'node:crypto';

/** `Authorization: Basic ...` for a user name and password (UTF-8, as browsers send today). */
export function basicAuthorization(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** Parse a `WWW-Authenticate: Digest k="v", k=v` challenge. */
export function parseDigestChallenge(header: string): Record<string, string> {
  if (!/^Digest\s/i.test(header)) throw new Error(`not a Digest challenge: ${header}`);
  const params: Record<string, string> = {};
  const re = /([A-Za-z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of header.slice(7).matchAll(re)) {
    const key = (m[1] ?? '').toLowerCase();
    params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return params;
}

/** A quoted-string of RFC 7230: backslash and double quote escaped. */
function quoted(value: string): string {
  return '"' + value.replace(/(["\\])/g, '\\$1') + '"';
}

/**
 * The client half of HTTP Digest (RFC 2617 / 7616) with MD5 and qop=auth, which is what
 * mod_auth_digest offers. Node's fetch does no Digest, so tests answer the challenge here.
 */
export function digestAuthorization(
  challenge: string,
  { user, password, method, uri }: { user: string; password: string; method: string; uri: string },
): string {
  const c = parseDigestChallenge(challenge);
  const realm = c.realm ?? '';
  const nonce = c.nonce ?? '';
  const algorithm = c.algorithm ?? 'MD5';
  if (algorithm.toUpperCase() !== 'MD5') throw new Error(`digest algorithm ${algorithm} not supported by this test client`);
  const qops = (c.qop ?? '').split(',').map((q) => q.trim());
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const useQop = qops.includes('auth');
  const response = useQop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  const parts = [
    `username=${quoted(user)}`,
    `realm=${quoted(realm)}`,
    `nonce=${quoted(nonce)}`,
    `uri=${quoted(uri)}`,
    `algorithm=MD5`,
    `response=${quoted(response)}`,
    ...(c.opaque !== undefined ? [`opaque=${quoted(c.opaque)}`] : []),
    ...(useQop ? [`qop=auth`, `nc=${nc}`, `cnonce=${quoted(cnonce)}`] : []),
  ];
  return 'Digest ' + parts.join(', ');
}

/** The trac_auth cookie from a response, as a Cookie header value. */
export function tracAuthCookie(response: Response): string | null {
  for (const line of response.headers.getSetCookie()) {
    const m = /^(trac_auth=[^;]+)/.exec(line);
    if (m?.[1]) return m[1];
  }
  return null;
}

/** Trac's metanav "logged in as <span class="trac-author-user">NAME</span>", as text. */
export function loggedInAs(html: string): string | null {
  const m = /logged in as\s*(?:<[^>]+>\s*)*([^<]+?)\s*</.exec(html);
  return m?.[1] ? decodeEntities(m[1]) : null;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
