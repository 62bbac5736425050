import type { CommandSpec } from './commandSpec.js';
import { generateOptionsFrom, outputArgsFrom, withGenerateFlags, withOutputFlags } from './generateFlags.js';

export const generateCommand: CommandSpec = {
  command: 'generate <path>',
  describe: 'write the .wsgi script and the Apache configuration for an environment or parent directory',
  builder: (y) =>
    withOutputFlags(
      withGenerateFlags(
        y
          .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory' })
          .option('out', { type: 'string', demandOption: true, describe: 'directory to write into', group: 'Output:' }),
      ),
    ),
  run: async (args, ctx) => {
    const { runGenerate } = await import('../commands/generate.js');
    return runGenerate({ ...generateOptionsFrom(args), ...outputArgsFrom(args), path: String(args.path) }, ctx);
  },
};
