import type { Argv } from 'yargs';
import type { CommandSpec } from './commandSpec.js';

/** The flags that name the Apache installation apply changes (shared with generate --apply). */
export function withApacheTargetFlags<T>(y: Argv<T>): Argv<T> {
  return y
    .option('apache-root', { type: 'string', requiresArg: true, describe: 'Apache configuration directory (default /etc/apache2 or /etc/httpd)', group: 'Apply:' })
    .option('apache-ctl', { type: 'string', requiresArg: true, describe: 'control script (default apache2ctl on Debian, httpd on RHEL)', group: 'Apply:' })
    .option('state-dir', { type: 'string', requiresArg: true, describe: 'journal, backups and lock (default /var/lib/trac-deploy, or <apache-root>/.trac-deploy)', group: 'Apply:' })
    .option('reload', { type: 'boolean', default: true, describe: 'reload Apache gracefully afterwards (--no-reload to skip)', group: 'Apply:' })
    .option('skip-checks', { type: 'boolean', default: false, describe: 'apply even when the machine checks (mod_wsgi, Python, file access) fail', group: 'Apply:' }) as Argv<T>;
}

export function targetArgsFrom(args: Record<string, unknown>) {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    apacheRoot: str(args.apacheRoot),
    apacheCtl: str(args.apacheCtl),
    stateDir: str(args.stateDir),
    reload: args.reload !== false,
    skipChecks: Boolean(args.skipChecks),
  };
}

export const applyCommand: CommandSpec = {
  command: 'apply [dir]',
  describe: 'install the configuration in DIR into the system Apache (configtest, backup, graceful reload; --rollback undoes)',
  builder: (y) =>
    withApacheTargetFlags(
      y
        .positional('dir', { type: 'string', describe: 'the --out directory of trac-deploy generate' })
        .option('rollback', { type: 'boolean', default: false, describe: 'undo the last apply' })
        .option('force', { type: 'boolean', default: false, describe: 'replace configuration files trac-deploy did not write (they are backed up)' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout' }),
    ),
  run: async (args, ctx) => {
    const { runApply } = await import('../commands/apply.js');
    return runApply({
      ...targetArgsFrom(args),
      dir: typeof args.dir === 'string' ? args.dir : undefined,
      rollback: Boolean(args.rollback),
      force: Boolean(args.force),
      log: (line) => ctx.stderr(line),
    });
  },
};
