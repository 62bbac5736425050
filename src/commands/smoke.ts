import { EXIT } from '../errors.js';
import { silentProgress, type Progress } from '../smoke/progress.js';
import { runSmoke } from '../smoke/runSmoke.js';
import type { SmokeOutcome } from './outcome.js';

export interface SmokeArgs {
  dir: string;
  name?: string | undefined;
  hello: boolean;
  timeout: number;
}

/** The smoke test; `progress` shows its steps as it goes (a spinner on a terminal). */
export async function runSmokeCommand(args: SmokeArgs, progress: Progress = silentProgress): Promise<SmokeOutcome> {
  try {
    const report = await runSmoke({ dir: args.dir, name: args.name, hello: args.hello, timeoutSeconds: args.timeout, onStep: progress.step });
    return { kind: 'smoke', exitCode: report.ok ? EXIT.ok : EXIT.failed, report };
  } finally {
    progress.stop();
  }
}
