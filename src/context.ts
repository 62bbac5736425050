import { isatty } from 'node:tty';
import pc from 'picocolors';
import type { Colors } from 'picocolors/types.js';

/** What commands use of the outside world, so tests can swap it. */
export interface CliContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdin and stdout are terminals (progress displays, prompts). */
  interactive: boolean;
  colors: Colors;
}

export function processContext(): CliContext {
  return {
    stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
    // isatty(0) rather than process.stdin.isTTY: the first use of process.stdin makes its stream
    // (a TTY, socket or file stream, and the modules behind it), a few ms of every run.
    interactive: isatty(0) && Boolean(process.stdout.isTTY),
    colors: pc,
  };
}
