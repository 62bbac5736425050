import { DEFAULT_SIZING } from '../inspect/sizing.js';
import { GENERATE_OPTION_SPECS } from '../plan/options.js';
import type { CommandSpec } from './commandSpec.js';

const describe = (key: 'processes' | 'threads') => GENERATE_OPTION_SPECS.find((s) => s.key === key)?.describe ?? key;

export const inspectCommand: CommandSpec = {
  command: 'inspect <path>',
  describe: 'report what a Trac environment (or a directory of them) needs for deployment',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON document on stdout' })
      .option('processes', { type: 'number', default: DEFAULT_SIZING.processes, describe: `${describe('processes')}; for the connection estimate` })
      .option('threads', { type: 'number', default: DEFAULT_SIZING.threads, describe: `${describe('threads')}; for the connection estimate` })
      .option('probe-db', {
        type: 'boolean',
        default: false,
        describe: "connect to each PostgreSQL/MySQL server with an environment's own credentials (psql / mysql client) and read max_connections",
      }),
  run: async (args) => {
    const { runInspect } = await import('../commands/inspect.js');
    return runInspect({ path: String(args.path), processes: Number(args.processes), threads: Number(args.threads), probeDb: Boolean(args.probeDb) });
  },
};
