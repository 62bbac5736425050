/**
 * Thrown wherever the file reader meets something it does not fully understand (a header field,
 * a page that fails a check, a value of an unexpected type, a file that changed while read):
 * the caller then asks SQLite itself. Never shown to a user; its message says why, for tests.
 */
export class NotUnderstood extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NotUnderstood';
  }
}

/** Throws NotUnderstood unless `condition`; for a reason built from values, `if (!c) fail(...)` builds it only then. */
export function check(condition: boolean, reason: string): asserts condition {
  if (!condition) throw new NotUnderstood(reason);
}

export function fail(reason: string): never {
  throw new NotUnderstood(reason);
}
