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

/** The most of one answer a check reads: Trac's pages are far smaller; a server sending more is cut off. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export const tooLarge = () => `the answer exceeded ${MAX_BODY_BYTES / 1024 / 1024} MiB; stopped reading it`;

/**
 * GETs `url` once. A body cut short (closed before Content-Length bytes came) is kept as the
 * bytes that did come, because that is what a browser shows: a broken download, judged as such.
 * A body over MAX_BODY_BYTES is not read further: an error.
 */
export async function fetchPage(url: string, options: { redirect: 'follow' | 'manual'; timeoutMs: number }): Promise<FetchedPage> {
  try {
    const response = await fetch(url, { redirect: options.redirect, signal: AbortSignal.timeout(options.timeoutMs) });
    const { bytes, overflow } = await readBounded(response);
    const page = { status: response.status, headers: response.headers, body: bytes.toString('utf8'), length: bytes.length, finalUrl: response.url || url };
    return { ...page, error: overflow ? tooLarge() : null };
  } catch (e) {
    const error = (e as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs / 1000} s` : `request failed: ${messageOf((e as Error & { cause?: unknown }).cause ?? e)}`;
    return { status: null, headers: new Headers(), body: '', length: 0, finalUrl: url, error };
  }
}

/** The body's bytes up to MAX_BODY_BYTES; what came before an early close is kept. */
async function readBounded(response: Response): Promise<{ bytes: Buffer; overflow: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  if (!response.body) return { bytes: Buffer.alloc(0), overflow: false };
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_BODY_BYTES) {
        await reader.cancel().catch(() => undefined);
        return { bytes: Buffer.concat(chunks), overflow: true };
      }
      chunks.push(Buffer.from(value));
    }
  } catch {
    // closed early: judged on what came
  }
  return { bytes: Buffer.concat(chunks), overflow: false };
}
