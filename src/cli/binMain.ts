import { abandonEarly } from '../python/htdocsQuestion.js';
import type { ExitCode } from '../errors.js';
import { abandonEarlyRuns } from '../python/earlyRuns.js';
import { startDeployEarly } from './earlyDeploy.js';
import { startPreflightEarly } from './earlyPreflight.js';

/**
 * What bin/trac-deploy.js runs: deploy's Python question, or generate's and inspect's preflight,
 * first (it takes longest), then the CLI, loaded only now. An early question the command did not
 * take over is stopped at the end.
 */
export async function binMain(argv: string[]): Promise<ExitCode> {
  if (argv[0] === 'deploy') startDeployEarly(argv);
  else startPreflightEarly(argv);
  try {
    const { main } = await import('../cli.js');
    return await main(argv);
  } finally {
    abandonEarly();
    abandonEarlyRuns();
  }
}
