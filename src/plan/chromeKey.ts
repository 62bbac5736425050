/** A chrome key is one path segment, as Trac's /chrome/<key>/ URLs can reach it. */
export function validKey(key: string): boolean {
  return key.length > 0 && key !== '.' && key !== '..' && !/[/\\\0\r\n]/.test(key);
}
