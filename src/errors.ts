/**
 * Exit codes, the same for every command (see shared/CLI.md). 130 (128 + SIGINT, as shells
 * report Ctrl-C): the user cancelled the init wizard at a prompt; nothing was written.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error the user can act on: one line of message, optional lines of advice, and the exit
 * code it maps to. The CLI prints these without a stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
    readonly advice: readonly string[] = [],
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Bad usage or bad input: exit 2. */
export function usageError(message: string, ...advice: string[]): UserError {
  return new UserError(message, EXIT.usage, advice);
}

/** The job ran and failed (smoke test failed, drift found): exit 1. */
export function jobFailed(message: string, ...advice: string[]): UserError {
  return new UserError(message, EXIT.failed, advice);
}

/** The message of anything thrown, for the one line the user sees. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Why a file operation failed, in words (ENOENT -> "no such file"), else the message. */
export function reasonOf(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENOTREG':
      return error instanceof Error ? error.message : 'not a regular file';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * A user-supplied path or value for a one-line message: as typed when it is printable, else in
 * JSON quotes, so a line break, NUL or terminal escape in it can neither split the line nor
 * reach the terminal raw.
 */
export function shown(value: string): string {
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value) ? JSON.stringify(value) : value;
}
