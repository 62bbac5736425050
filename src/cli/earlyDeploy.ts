import { questionFor } from '../python/answerCache.js';
import { startEarly } from '../python/htdocsQuestion.js';

export { abandonEarly } from '../python/htdocsQuestion.js';

/**
 * `deploy ENV TARGET ...`: the environment's Python is asked before the CLI's own modules load
 * (they take about as long as the cheap half of the question). Only the plain form is guessed at
 * (ENV right after "deploy"); runDeploy takes the question over only when it asks exactly the
 * same (python/htdocsQuestion.ts), and stops it otherwise. Resolves once Python is started.
 */
export async function startDeployEarly(argv: readonly string[]): Promise<void> {
  if (argv[0] !== 'deploy') return;
  const env = argv[1];
  if (!env || env.startsWith('-') || argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return;
  let pythonHome: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--python-home' || arg === '--pythonHome') pythonHome = argv[i + 1] ?? null;
    else if (arg.startsWith('--python-home=') || arg.startsWith('--pythonHome=')) pythonHome = arg.slice(arg.indexOf('=') + 1);
  }
  let question;
  try {
    question = questionFor(pythonHome, env);
  } catch {
    return; // who to ask as is refused: runDeploy says why
  }
  await startEarly(question, pythonHome);
}
