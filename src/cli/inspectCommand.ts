import type { CommandSpec } from './commandSpec.js';

export const inspectCommand: CommandSpec = {
  command: 'inspect <path>',
  describe: 'report what a Trac environment (or a directory of them) needs for deployment',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON document on stdout' }),
  run: async (args, ctx) => {
    const { runInspect } = await import('../commands/inspect.js');
    return runInspect({ path: String(args.path), json: Boolean(args.json) }, ctx);
  },
};
