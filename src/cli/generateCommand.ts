import { targetArgsFrom, withApacheTargetFlags } from './applyCommand.js';
import type { CommandSpec } from './commandSpec.js';
import { generateOptionsFrom, outputArgsFrom, withGenerateFlags, withOutputFlags } from './generateFlags.js';

export const generateCommand: CommandSpec = {
  command: 'generate <path>',
  describe: 'write the .wsgi script and the Apache configuration for an environment or parent directory',
  builder: (y) =>
    withApacheTargetFlags(
      withOutputFlags(
        withGenerateFlags(
          y
            .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory' })
            .option('out', { type: 'string', demandOption: true, describe: 'directory to write into', group: 'Output:' })
            .option('apply', { type: 'boolean', default: false, describe: 'then install the written configuration into Apache, as trac-deploy apply OUT does', group: 'Apply:' }),
        ),
      ),
    ),
  run: async (args, ctx) => {
    const generate = { ...generateOptionsFrom(args), ...outputArgsFrom(args), path: String(args.path) };
    if (args.apply) {
      const { runGenerateAndApply } = await import('../commands/generateAndApply.js');
      return runGenerateAndApply(generate, targetArgsFrom(args), ctx);
    }
    const { runGenerate } = await import('../commands/generate.js');
    return runGenerate(generate, ctx);
  },
};
