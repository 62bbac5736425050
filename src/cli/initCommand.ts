import type { CommandSpec } from './commandSpec.js';
import { givenOptionsFrom, withGenerateFlags } from './generateFlags.js';

export const initCommand: CommandSpec = {
  command: 'init [path]',
  describe: 'interactive setup: asks what it cannot detect, shows the files, writes them and offers the smoke test',
  builder: (y) =>
    withGenerateFlags(
      y
        .positional('path', { type: 'string', describe: 'environment or parent directory (default: offers the ones it finds)' })
        .option('out', { type: 'string', describe: 'directory to write into (default: asked, /srv/trac-deploy/<name>)', group: 'Output:' })
        .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'take the default for every question not answered by a flag', group: 'Wizard:' })
        .option('interactive', { type: 'boolean', describe: 'ask questions (default: when stdin and stdout are terminals)', group: 'Wizard:' })
        .option('smoke', { type: 'boolean', describe: 'run the smoke test after writing (default: asked, yes; --no-smoke to skip it)', group: 'Wizard:' })
        .option('force', { type: 'boolean', default: false, describe: 'replace files that exist with other content (asked when interactive)', group: 'Output:' }),
      { defaults: false },
    ),
  run: async (args, ctx) => {
    const { runInit } = await import('../commands/init.js');
    const { present } = await import('../report/present.js');
    return runInit(
      {
        path: typeof args.path === 'string' ? args.path : undefined,
        out: typeof args.out === 'string' ? args.out : undefined,
        given: givenOptionsFrom(args),
        yes: Boolean(args.yes),
        interactive: typeof args.interactive === 'boolean' ? args.interactive : ctx.interactive,
        force: Boolean(args.force),
        smoke: typeof args.smoke === 'boolean' ? args.smoke : undefined,
      },
      ctx,
      { show: (outcome) => present(outcome, ctx, false) },
    );
  },
};
