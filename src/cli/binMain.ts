import { abandonEarly } from '../python/htdocsQuestion.js';
import type { ExitCode } from '../errors.js';
import { startDeployEarly } from './earlyDeploy.js';

/**
 * What bin/trac-deploy.js runs: deploy's Python question first (it takes longest), then the
 * CLI, loaded only now. An early question the command did not take over is stopped at the end.
 */
export async function binMain(argv: string[]): Promise<ExitCode> {
  // Python first: the CLI's modules load synchronously, and would hold its start back.
  if (argv[0] === 'deploy') await startDeployEarly(argv);
  try {
    const { main } = await import('../cli.js');
    return await main(argv);
  } finally {
    abandonEarly();
  }
}
