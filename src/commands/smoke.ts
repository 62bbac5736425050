import { EXIT, usageError } from '../errors.js';
import { silentProgress, type Progress } from '../smoke/progress.js';
import { runSmoke } from '../smoke/runSmoke.js';
import type { SmokeOutcome } from './outcome.js';

export interface SmokeArgs {
  dir?: string | undefined;
  /** A live site instead of a throwaway server. */
  url?: string | undefined;
  name?: string | undefined;
  hello: boolean;
  timeout: number;
}

/** The smoke test; `progress` shows its steps as it goes (a spinner on a terminal). */
export async function runSmokeCommand(args: SmokeArgs, progress: Progress = silentProgress): Promise<SmokeOutcome> {
  try {
    if (args.url) {
      if (args.hello) throw usageError('--hello serves Hello World on a throwaway server; it cannot be combined with --url');
      const { runLiveSmoke } = await import('../smoke/liveSmoke.js');
      const report = await runLiveSmoke({ url: args.url, dir: args.dir, name: args.name, timeoutSeconds: args.timeout });
      return { kind: 'smoke', exitCode: report.ok ? EXIT.ok : EXIT.failed, report };
    }
    if (!args.dir) throw usageError('name the --out directory of generate (smoke DIR), or a live site with --url URL');
    const report = await runSmoke({ dir: args.dir, name: args.name, hello: args.hello, timeoutSeconds: args.timeout, onStep: progress.step });
    return { kind: 'smoke', exitCode: report.ok ? EXIT.ok : EXIT.failed, report };
  } finally {
    progress.stop();
  }
}
