import { DEFAULT_GENERATE_OPTIONS, type GenerateOptions } from './options.js';

/**
 * The one place defaults are applied: defaults < given, where a key given as undefined keeps
 * its default. Flags (generate, deploy), the wizard's answers (init) and ci's flags all go
 * through it; the values are checked by planDeployment, which every command calls next.
 */
export function resolveOptions(given: Partial<GenerateOptions>): GenerateOptions {
  const options: Record<string, unknown> = { ...DEFAULT_GENERATE_OPTIONS };
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) options[key] = value;
  }
  return options as unknown as GenerateOptions;
}
