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
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    colors: pc,
  };
}
