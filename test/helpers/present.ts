import type { Outcome } from '../../src/commands/outcome.js';
import type { CliContext } from '../../src/context.js';
import type { ExitCode } from '../../src/errors.js';
import { present } from '../../src/report/present.js';

/** What the CLI does with a command's outcome: print it (text or --json) and take its exit code. */
export async function presented(outcome: Promise<Outcome> | Outcome, ctx: CliContext, json = false): Promise<ExitCode> {
  const o = await outcome;
  present(o, ctx, json);
  return o.exitCode;
}
