import type { CliContext } from '../context.js';
import { EXIT, type ExitCode, usageError } from '../errors.js';
import { runApply } from './apply.js';
import { runGenerate, type GenerateArgs } from './generate.js';

type TargetArgs = Pick<Parameters<typeof runApply>[0], 'apacheRoot' | 'apacheCtl' | 'stateDir' | 'reload' | 'skipChecks'>;

/**
 * `generate --apply`: generate, then `apply OUT` with the same --force and --json. With --json
 * the two results are one document: generate's, with apply's under "apply".
 */
export async function runGenerateAndApply(args: GenerateArgs, target: TargetArgs, ctx: CliContext): Promise<ExitCode> {
  if (args.check || args.dryRun) throw usageError('--apply cannot be combined with --check or --dry-run: it changes the running Apache');
  const apply = { ...target, dir: args.out, rollback: false, force: args.force, json: args.json };
  if (!args.json) {
    const code = await runGenerate(args, ctx);
    return code === EXIT.ok ? runApply(apply, ctx) : code;
  }
  const captured: string[] = [];
  const capture: CliContext = { ...ctx, stdout: (text) => captured.push(text) };
  const code = await runGenerate(args, capture);
  const generated = JSON.parse(captured.splice(0).join('\n')) as Record<string, unknown>;
  if (code !== EXIT.ok) {
    ctx.stdout(JSON.stringify(generated, null, 2));
    return code;
  }
  try {
    const applied = await runApply(apply, capture);
    ctx.stdout(JSON.stringify({ ...generated, apply: JSON.parse(captured.join('\n')) as unknown }, null, 2));
    return applied;
  } catch (error) {
    // apply refused or failed with a message of its own: generate's result still goes out.
    ctx.stdout(JSON.stringify(generated, null, 2));
    throw error;
  }
}
