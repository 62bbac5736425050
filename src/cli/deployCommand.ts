import type { CommandSpec } from './commandSpec.js';
import { generateOptionsFrom, withGenerateFlags, withOutputFlags } from './generateFlags.js';

export const deployCommand: CommandSpec = {
  command: 'deploy <env> <target>',
  describe: "trac-admin ENV deploy TARGET, and the Apache configuration that serves TARGET/htdocs directly",
  builder: (y) =>
    withOutputFlags(
      withGenerateFlags(
        y
          .positional('env', { type: 'string', demandOption: true, describe: 'the Trac environment' })
          .positional('target', { type: 'string', demandOption: true, describe: 'directory to deploy into (cgi-bin/, htdocs/, <name>.conf)' }),
      ),
    ),
  run: async (args) => {
    const { runDeploy } = await import('../commands/deploy.js');
    return runDeploy({
        ...generateOptionsFrom(args),
        env: String(args.env),
        target: String(args.target),
        force: Boolean(args.force),
        dryRun: Boolean(args.dryRun),
        check: Boolean(args.check),
      });
  },
};
