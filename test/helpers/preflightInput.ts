/**
 * The environment paths a fake preflight runner is sent on stdin, as they come: one JSON string
 * per line after the header line (python/preflight.py reads them the same way).
 */
export async function* askedPaths(input: AsyncIterable<string>): AsyncGenerator<string> {
  let header = true;
  let pending = '';
  for await (const chunk of input) {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (header) {
        header = false;
        continue;
      }
      yield JSON.parse(text) as string;
    }
  }
}
