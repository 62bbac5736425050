import { DEFAULT_SIZING } from '../inspect/sizing.js';
import { GENERATE_OPTION_SPECS } from '../plan/options.js';
import type { CommandSpec } from './commandSpec.js';
import { givenOptionsFrom } from './generateFlags.js';

/** The generate flags that make the public URL trac.ini is compared with. */
const URL_FLAGS = ['urlPrefix', 'serverName', 'serverAlias', 'tlsCert', 'tlsKey', 'tlsChain', 'httpPort', 'httpsPort', 'behindProxy'] as const;

const describe = (key: 'processes' | 'threads' | 'pythonHome' | 'siteDir' | 'eggCache') => GENERATE_OPTION_SPECS.find((s) => s.key === key)?.describe ?? key;

export const inspectCommand: CommandSpec = {
  command: 'inspect <path>',
  describe: 'report what a Trac environment (or a directory of them) needs for deployment',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON document on stdout' })
      .option('processes', { type: 'number', default: DEFAULT_SIZING.processes, describe: `${describe('processes')}; for the connection estimate` })
      .option('threads', { type: 'number', default: DEFAULT_SIZING.threads, describe: `${describe('threads')}; for the connection estimate` })
      .option('python-home', { type: 'string', describe: `${describe('pythonHome')}; the preflight asks Trac in it` })
      .option('site-dir', { type: 'array', string: true, describe: describe('siteDir') })
      .option('egg-cache', { type: 'string', describe: describe('eggCache') })
      .option('preflight', {
        type: 'boolean',
        default: true,
        describe: 'ask Trac itself (one Python process, as the Apache user when root) whether it opens each environment, its plugins and repositories; --no-preflight skips it',
      })
      .options(Object.fromEntries(URL_FLAGS.map((key) => {
        const spec = GENERATE_OPTION_SPECS.find((s) => s.key === key);
        return [spec?.flag ?? key, { type: spec?.type === 'array' ? ('array' as const) : spec?.type === 'number' ? ('number' as const) : ('string' as const), ...(spec?.type === 'array' ? { string: true } : {}), requiresArg: true, group: 'Public URL (compared with trac.ini, as generate would):', describe: spec?.describe ?? key }];
      })))
      .option('probe-db', {
        type: 'boolean',
        default: false,
        describe: "connect to each PostgreSQL/MySQL server with an environment's own credentials (psql / mysql client) and read max_connections",
      }),
  run: async (args) => {
    const { runInspect } = await import('../commands/inspect.js');
    return runInspect({ path: String(args.path), processes: Number(args.processes), threads: Number(args.threads), probeDb: Boolean(args.probeDb),
      preflight: args.preflight !== false,
      pythonHome: args.pythonHome === undefined ? undefined : String(args.pythonHome),
      siteDir: Array.isArray(args.siteDir) ? args.siteDir.map(String) : undefined,
      eggCache: args.eggCache === undefined ? undefined : String(args.eggCache),
      site: givenOptionsFrom(args),
    });
  },
};
