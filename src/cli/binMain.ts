import type { ExitCode } from '../errors.js';

/**
 * What bin/trac-deploy.js runs: deploy's Python question first (it takes longest), then the
 * CLI, loaded only now. An early question the command did not take over is stopped at the end.
 * Other commands load nothing of deploy's: the question's modules cost ~10 ms to load.
 */
export async function binMain(argv: string[]): Promise<ExitCode> {
  // Python first: the CLI's modules load synchronously, and would hold its start back.
  const early = argv[0] === 'deploy' ? await import('./earlyDeploy.js') : null;
  if (early) await early.startDeployEarly(argv);
  try {
    const { main } = await import('../cli.js');
    return await main(argv);
  } finally {
    early?.abandonEarly();
  }
}
