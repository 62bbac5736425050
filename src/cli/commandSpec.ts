import type { Argv } from 'yargs';
import type { Outcome } from '../commands/outcome.js';
import type { CliContext } from '../context.js';

/**
 * One CLI command: its yargs declaration, and a handler that returns the command's outcome
 * (cli.ts presents it as text or JSON and exits with its code). The handler imports its
 * implementation lazily so that start-up stays cheap.
 */
export interface CommandSpec {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  run: (args: Record<string, unknown>, ctx: CliContext) => Promise<Outcome>;
}
