/** Text for a `#` comment line in Python or Apache: printable, one line (control characters become "?"). */
export function commentText(value: string): string {
  return value.replace(/[\x00-\x1f\x7f]/g, '?');
}
