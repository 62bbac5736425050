import { usageError } from '../errors.js';
import { runApply, type ApplyArgs } from './apply.js';
import { runGenerate, type GenerateArgs } from './generate.js';
import type { ApplyOutcome, FilesOutcome, GenerateApplyOutcome } from './outcome.js';

type TargetArgs = Pick<ApplyArgs, 'apacheRoot' | 'apacheCtl' | 'stateDir' | 'reload' | 'skipChecks' | 'log'>;

/**
 * `generate --apply`: generate, then `apply OUT` with the same --force. One outcome holds both;
 * when apply refuses with an error of its own, generate's outcome is handed to `shown` first,
 * so what was written is still reported.
 */
export async function runGenerateAndApply(args: GenerateArgs, target: TargetArgs, shown: (generated: FilesOutcome) => void): Promise<GenerateApplyOutcome> {
  if (args.check || args.dryRun) throw usageError('--apply cannot be combined with --check or --dry-run: it changes the running Apache');
  const generate = await runGenerate(args);
  if (generate.exitCode !== 0) return { kind: 'generate-apply', exitCode: generate.exitCode, generate, apply: null };
  let apply: ApplyOutcome;
  try {
    apply = await runApply({ ...target, dir: args.out, rollback: false, force: args.force });
  } catch (error) {
    shown(generate);
    throw error;
  }
  return { kind: 'generate-apply', exitCode: apply.exitCode, generate, apply };
}
