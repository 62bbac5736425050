import type { Argv } from 'yargs';
import type { CliContext } from '../context.js';
import type { ExitCode } from '../errors.js';

/**
 * One CLI command: its yargs declaration, and a handler that returns the exit code. The
 * handler imports its implementation lazily so that start-up stays cheap.
 */
export interface CommandSpec {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  run: (args: Record<string, unknown>, ctx: CliContext) => Promise<ExitCode>;
}
