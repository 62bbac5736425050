import type { Argv } from 'yargs';
import { usageError } from '../errors.js';
import { DEFAULT_GENERATE_OPTIONS, GENERATE_OPTION_SPECS, type GenerateOptions } from '../plan/options.js';
import { resolveOptions } from '../plan/resolveOptions.js';

/**
 * The generate flags from the option table. `defaults: false` leaves flags that were not given
 * undefined, so the wizard can tell what it still has to ask.
 */
export function withGenerateFlags<T>(y: Argv<T>, { defaults = true }: { defaults?: boolean } = {}): Argv<T> {
  let out = y;
  for (const spec of GENERATE_OPTION_SPECS) {
    const fallback = defaults ? DEFAULT_GENERATE_OPTIONS[spec.key] : undefined;
    out = out.option(spec.flag, {
      type: spec.type,
      describe: spec.describe,
      ...(spec.choices ? { choices: [...spec.choices] } : {}),
      ...(fallback !== undefined ? { default: fallback } : {}),
      ...(spec.type === 'array' ? { string: true } : {}),
      // `--url-prefix --force` is an error naming the flag, not the default taken silently.
      ...(spec.type !== 'boolean' ? { requiresArg: true } : {}),
    }) as Argv<T>;
  }
  // One group call for all: yargs merges a group's keys anew on each call (a flag at a time,
  // that is quadratic, a few ms of every generate and deploy).
  return out.group(
    GENERATE_OPTION_SPECS.map((spec) => spec.flag),
    'Deployment:',
  ) as Argv<T>;
}

export function withOutputFlags<T>(y: Argv<T>): Argv<T> {
  return y
    .option('force', { type: 'boolean', default: false, describe: 'replace files that exist with other content', group: 'Output:' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print what would be written, write nothing', group: 'Output:' })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 when the files differ from what would be written', group: 'Output:' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout', group: 'Output:' })
    .check((args) => {
      if (args.check && (args.force || args.dryRun)) throw usageError('--check cannot be combined with --force or --dry-run');
      return true;
    }) as Argv<T>;
}

/** Pick the GenerateOptions out of parsed yargs arguments. */
export function generateOptionsFrom(args: Record<string, unknown>): GenerateOptions {
  return resolveOptions(givenOptionsFrom(args));
}

/** Pick the output flags out of parsed yargs arguments. */
export function outputArgsFrom(args: Record<string, unknown>): { out: string; force: boolean; dryRun: boolean; check: boolean; json: boolean } {
  return {
    out: String(args.out),
    force: Boolean(args.force),
    dryRun: Boolean(args.dryRun),
    check: Boolean(args.check),
    json: Boolean(args.json),
  };
}

/** Only the generate options the user gave as flags (parsed without defaults). */
export function givenOptionsFrom(args: Record<string, unknown>): Partial<GenerateOptions> {
  const given: Record<string, unknown> = {};
  for (const spec of GENERATE_OPTION_SPECS) {
    const value = args[spec.key];
    if (value !== undefined) given[spec.key] = spec.type === 'array' ? (value as unknown[]).map(String) : value;
  }
  return given as Partial<GenerateOptions>;
}
