import { CI_DEFAULT_FILES, CI_PROVIDERS, type CiProvider } from '../ci/providers.js';
import { VERSION } from '../version.js';
import type { CommandSpec } from './commandSpec.js';
import { givenOptionsFrom, withGenerateFlags } from './generateFlags.js';

export const ciCommand: CommandSpec = {
  command: 'ci [path]',
  describe: `write a CI pipeline (GitHub Actions or GitLab CI) that fails on drift in the committed configuration and smoke-tests it (${Object.values(CI_DEFAULT_FILES).join(', ')})`,
  builder: (y) =>
    withGenerateFlags(
      y
        .positional('path', { type: 'string', describe: 'the environment or parent directory, as deployed on the server (default: the one the configuration in --config-dir was generated for)' })
        .option('provider', { type: 'string', choices: [...CI_PROVIDERS], demandOption: true, describe: 'CI service', group: 'CI:' })
        .option('out', { type: 'string', describe: 'workflow file to write (default: print it)', group: 'CI:' })
        .option('config-dir', { type: 'string', default: 'deploy', describe: 'directory in the repository holding the committed configuration', group: 'CI:' })
        .option('deploy-dir', { type: 'string', describe: 'the --out the configuration was generated for on the server (default: the committed plan\'s, else /srv/trac-deploy)', group: 'CI:' })
        .option('trac-version', { type: 'string', default: '1.6', describe: 'Trac release to install', group: 'CI:' })
        .option('package', { type: 'string', describe: `what npm install -g installs on the runner: a tarball URL or path, or a git URL (default: this trac-deploy ${VERSION}, packed into .trac-deploy/ of the repository)`, group: 'CI:' })
        .option('force', { type: 'boolean', default: false, describe: 'replace the workflow file if it differs', group: 'CI:' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print what would be written, write nothing', group: 'CI:' }),
      { defaults: false },
    ),
  run: async (args) => {
    const { runCi } = await import('../commands/ci.js');
    return runCi({
        provider: args.provider as CiProvider,
        path: typeof args.path === 'string' ? args.path : null,
        given: givenOptionsFrom(args),
        configDir: String(args.configDir),
        deployDir: typeof args.deployDir === 'string' ? args.deployDir : null,
        tracVersion: String(args.tracVersion),
        packageSpec: typeof args.package === 'string' ? args.package : null,
        out: typeof args.out === 'string' ? args.out : null,
        force: Boolean(args.force),
        dryRun: Boolean(args.dryRun),
      });
  },
};
