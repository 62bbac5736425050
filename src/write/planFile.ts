import fs from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';

/**
 * `<name>.plan.json`: the one hand-off between commands. generate and deploy write it beside
 * the files rendered from the plan; smoke, apply and ci read it back instead of re-parsing
 * the rendered Apache or Python text. This module alone knows its format.
 */
export const PLAN_FILE_KIND = 'trac-deploy-plan';
export const PLAN_FILE_VERSION = 1;
export const PLAN_FILE_SUFFIX = '.plan.json';

export interface PlanFile {
  kind: typeof PLAN_FILE_KIND;
  version: typeof PLAN_FILE_VERSION;
  plan: DeploymentPlan;
}

/** A plan as read from disk, with the file it came from. */
export interface StoredPlan {
  file: string;
  plan: DeploymentPlan;
}

/** `<name>.plan.json` beside `<name>.conf`. */
export function planFilePath(plan: DeploymentPlan): string {
  return plan.files.apache.replace(/\.conf$/, '') + PLAN_FILE_SUFFIX;
}

/** The plan file as one more rendered file, written by the same writer as the rest. */
export function renderPlanFile(plan: DeploymentPlan): RenderedFile {
  const content: PlanFile = { kind: PLAN_FILE_KIND, version: PLAN_FILE_VERSION, plan };
  return { path: planFilePath(plan), kind: 'manifest', content: JSON.stringify(content, null, 2) + '\n', mode: 0o644 };
}

/** Read and check one plan file; a file of another kind or version is bad input (exit 2). */
export async function readPlanFile(file: string): Promise<StoredPlan> {
  let data: unknown;
  try {
    data = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw usageError(`${file} is not a readable trac-deploy manifest (${(error as Error).message}); re-run trac-deploy generate`);
  }
  const stored = data as Partial<PlanFile> | null;
  if (stored?.kind !== PLAN_FILE_KIND || stored.version !== PLAN_FILE_VERSION || !stored.plan?.files?.apache || !stored.plan.files.wsgi) {
    throw usageError(`${file} is not a trac-deploy manifest of version ${PLAN_FILE_VERSION}; re-run trac-deploy generate`);
  }
  return { file, plan: stored.plan };
}

/** The names of the plan files in a directory, sorted; null when the directory cannot be read. */
export async function planFileNames(dir: string): Promise<string[] | null> {
  const entries = await fs.readdir(dir).catch(() => null);
  return entries === null ? null : entries.filter((f) => f.endsWith(PLAN_FILE_SUFFIX)).sort();
}

/** Every plan file in a directory, each checked. */
export async function readPlanFiles(dir: string): Promise<StoredPlan[]> {
  const names = (await planFileNames(dir)) ?? [];
  const plans: StoredPlan[] = [];
  for (const name of names) plans.push(await readPlanFile(path.join(dir, name)));
  return plans;
}
