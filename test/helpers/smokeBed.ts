import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from './cli.js';

/**
 * A directory shared by the tests of one file (beforeAll/afterAll), opened to 0755 so the
 * Apache user can reach the environments and configurations inside it.
 */
export async function sharedDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(dir, 0o755);
  return dir;
}

/** `trac-deploy generate`; fails the test with its stderr when it does not exit 0. */
export async function generate(source: string, out: string, ...flags: string[]): Promise<void> {
  const result = await runCli(['generate', source, '--out', out, ...flags]);
  if (result.code !== 0) throw new Error(`generate failed (${result.code}):\n${result.stderr}`);
}

export interface SmokeJson {
  ok: boolean;
  hello: boolean;
  requests: { url: string; status: number | null; ms: number; ok: boolean; title: string | null; problem: string | null; hello?: Record<string, string> }[];
  findings: { code: string; message: string; advice: string[]; log: string[] }[];
  server: { banner: string | null; port: number | null; startMs: number | null; stopMs: number | null };
  totalMs: number;
}

/** `trac-deploy smoke DIR --json ...`, parsed. */
export async function smokeJson(dir: string, ...flags: string[]): Promise<{ result: CliResult; report: SmokeJson }> {
  const result = await runCli(['smoke', dir, '--json', ...flags]);
  let report: SmokeJson;
  try {
    report = JSON.parse(result.stdout) as SmokeJson;
  } catch {
    throw new Error(`smoke --json printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { result, report };
}
