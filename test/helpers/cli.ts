import { execa } from 'execa';
import { CLI } from './paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawn the built CLI as a user would, without a terminal. */
export async function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const result = await execa('node', [CLI, ...args], {
    reject: false,
    stdin: 'ignore',
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: '1', ...options.env },
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** What every error must look like: one first line, no stack trace. */
export function expectCleanError(result: CliResult): void {
  if (/\n\s+at .+:\d+:\d+/.test(result.stderr) || /node:internal|Error: /.test(result.stderr)) {
    throw new Error(`stderr carries a stack trace or raw error:\n${result.stderr}`);
  }
  if (!result.stderr.startsWith('trac-deploy: ')) throw new Error(`stderr does not start with "trac-deploy: ":\n${result.stderr}`);
}
