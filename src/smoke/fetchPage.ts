import { messageOf } from '../errors.js';

/** What a client got for one URL: the status, headers and every byte of the body it received. */
export interface FetchedPage {
  status: number | null;
  headers: Headers;
  body: string;
  /** Bytes received; fewer than Content-Length when the connection closed early. */
  length: number;
  /** Where the answer came from after redirects (the URL itself when none were followed). */
  finalUrl: string;
  /** Why no answer came (timeout, refused connection); null when one did. */
  error: string | null;
}

/**
 * GETs `url` once. A body cut short (closed before Content-Length bytes came) is kept as the
 * bytes that did come, because that is what a browser shows: a broken download, judged as such.
 */
export async function fetchPage(url: string, options: { redirect: 'follow' | 'manual'; timeoutMs: number }): Promise<FetchedPage> {
  try {
    const response = await fetch(url, { redirect: options.redirect, signal: AbortSignal.timeout(options.timeoutMs) });
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await response.arrayBuffer());
    } catch {
      bytes = Buffer.alloc(0);
    }
    return { status: response.status, headers: response.headers, body: bytes.toString('utf8'), length: bytes.length, finalUrl: response.url || url, error: null };
  } catch (e) {
    const error = (e as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs / 1000} s` : `request failed: ${messageOf((e as Error & { cause?: unknown }).cause ?? e)}`;
    return { status: null, headers: new Headers(), body: '', length: 0, finalUrl: url, error };
  }
}
