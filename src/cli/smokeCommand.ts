import { usageError } from '../errors.js';
import type { CommandSpec } from './commandSpec.js';

export const smokeCommand: CommandSpec = {
  command: 'smoke [dir]',
  describe: 'serve the configuration in DIR through a throwaway Apache on 127.0.0.1 and check the pages (or check a live site with --url)',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', describe: 'the --out directory of generate (with --url: only its plans are read, to choose the pages)' })
      .option('url', { type: 'string', describe: 'check a live site at this URL (e.g. https://trac.example.org/trac) with the same page checks, instead of a throwaway server' })
      .option('hello', { type: 'boolean', default: false, describe: 'serve a Hello World application at the same mount point with the same mod_wsgi settings' })
      .option('name', { type: 'string', describe: 'only <name>.conf (default: every configuration in DIR, served together)' })
      .option('timeout', { type: 'number', default: 60, describe: 'seconds to wait for Apache and for each page' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON document on stdout: requests, timings, findings' })
      .check((args) => {
        if (typeof args.timeout !== 'number' || !Number.isFinite(args.timeout) || args.timeout <= 0) throw usageError(`--timeout${Number.isNaN(args.timeout) ? "" : ` ${String(args.timeout)}`} must be a positive number of seconds`);
        return true;
      }),
  run: async (args) => {
    const { runSmokeCommand } = await import('../commands/smoke.js');
    const { silentProgress, spinner } = await import('../smoke/progress.js');
    // Progress is for a person at a terminal; --json and pipes stay clean.
    const progress = !args.json && process.stderr.isTTY ? await spinner(process.stderr) : silentProgress;
    return runSmokeCommand({ dir: args.dir === undefined ? undefined : String(args.dir), url: args.url === undefined ? undefined : String(args.url), name: args.name === undefined ? undefined : String(args.name), hello: Boolean(args.hello), timeout: Number(args.timeout) }, progress);
  },
};
