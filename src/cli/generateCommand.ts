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
            .option('preflight', {
              type: 'boolean',
              default: true,
              describe: 'ask Trac itself first (in the --python-home interpreter, as the Apache user) and refuse a site it would not serve; --no-preflight writes anyway',
              group: 'Output:',
            })
            .option('apply', { type: 'boolean', default: false, describe: 'then install the written configuration into Apache, as trac-deploy apply OUT does', group: 'Apply:' }),
        ),
      ),
    ),
  run: async (args, ctx) => {
    const generate = { ...generateOptionsFrom(args), ...outputArgsFrom(args), path: String(args.path), json: Boolean(args.json), preflight: args.preflight !== false };
    if (args.apply) {
      const { runGenerateAndApply } = await import('../commands/generateAndApply.js');
      const { present } = await import('../report/present.js');
      const log = (line: string) => ctx.stderr(line);
      return runGenerateAndApply(generate, { ...targetArgsFrom(args), log }, (generated) => present(generated, ctx, generate.json));
    }
    const { runGenerate } = await import('../commands/generate.js');
    return runGenerate(generate);
  },
};
