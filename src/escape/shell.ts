/**
 * Words for POSIX shell command lines (CI workflow `run:` blocks). A word is left bare when it
 * holds only characters no shell treats specially, else single-quoted with each ' written as
 * '\''. Control characters (a line break would end the command, and the YAML block with it)
 * cannot be written and are refused.
 */
export function shWord(value: string): string {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`${JSON.stringify(value)} cannot be written into a shell command line: it contains a control character`);
  if (value !== '' && /^[A-Za-z0-9_./@%+=:,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function shWords(values: readonly string[]): string {
  return values.map(shWord).join(' ');
}
