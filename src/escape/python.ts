/**
 * Python string literals for generated .wsgi scripts.
 *
 * The literal is pure ASCII (every other code point becomes an escape), so the script compiles
 * whatever the source encoding, and it carries the `u` prefix so that it is text under both
 * Python 3 and the Python 2.7 of Trac 1.4.
 */
export function pyStr(value: string): string {
  let out = "u'";
  for (const ch of value) {
    out += escapeCodePoint(ch);
  }
  return out + "'";
}

const NAMED: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function escapeCodePoint(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.codePointAt(0) ?? 0;
  if (code >= 0x20 && code < 0x7f) return ch;
  if (code < 0x100) return '\\x' + hex(code, 2);
  if (code < 0x10000) return '\\u' + hex(code, 4);
  return '\\U' + hex(code, 8);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/** A Python list literal of strings. */
export function pyList(values: readonly string[]): string {
  return '[' + values.map(pyStr).join(', ') + ']';
}
