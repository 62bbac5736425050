import { usageError } from '../errors.js';
import type { CommandSpec } from './commandSpec.js';
import { generateOptionsFrom, outputArgsFrom, withGenerateFlags, withOutputFlags } from './generateFlags.js';

export const fleetCommand: CommandSpec = {
  command: 'fleet <path>',
  describe: 'write an Ansible project that rolls the deployment out to several web servers, one at a time, with health checks and rollback',
  builder: (y) =>
    withOutputFlags(
      withGenerateFlags(
        y
          .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory (on storage every web host mounts at the same path)' })
          .option('inventory', { type: 'string', demandOption: true, describe: 'Ansible inventory naming the web servers', group: 'Fleet:' })
          .option('group', { type: 'string', default: 'trac_web', describe: 'inventory group of the web servers', group: 'Fleet:' })
          .option('out', { type: 'string', demandOption: true, describe: 'directory to write the Ansible project into', group: 'Output:' })
          .option('remote-root', { type: 'string', describe: 'directory on each host for the .wsgi, virtualenv and static files (default /srv/trac-deploy/<name>)', group: 'Fleet:' })
          .option('probe-db', { type: 'boolean', default: false, describe: "ask each database server for max_connections: pooling is kept only when the fleet's connections fit", group: 'Fleet:' })
          .option('run', { type: 'boolean', default: false, describe: 'then run ansible-playbook with it and show its progress', group: 'Fleet:' })
          .check((args) => {
            if (args.run && (args.check || args.dryRun)) throw usageError('--run cannot be combined with --check or --dry-run');
            return true;
          }),
      ),
    ).epilogue('--python-home names the virtualenv on this machine that Trac is asked in (version, plugins, static files); every host gets its own virtualenv under --remote-root.'),
  run: async (args, ctx) => {
    const { runFleet } = await import('../commands/fleet.js');
    return runFleet(
      {
        ...outputArgsFrom(args),
        path: String(args.path),
        inventory: String(args.inventory),
        group: String(args.group),
        remoteRoot: args.remoteRoot === undefined ? undefined : String(args.remoteRoot),
        probeDb: Boolean(args.probeDb),
        run: Boolean(args.run),
        options: generateOptionsFrom(args),
      },
      (line) => ctx.stderr(line),
    );
  },
};
