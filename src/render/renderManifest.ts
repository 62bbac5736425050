import type { DeploymentPlan, RenderedFile } from '../plan/types.js';

/** What a manifest file says it is, and the format version smoke understands. */
export const MANIFEST_KIND = 'trac-deploy-plan';
export const MANIFEST_VERSION = 1;
export const MANIFEST_SUFFIX = '.plan.json';

export interface Manifest {
  kind: typeof MANIFEST_KIND;
  version: typeof MANIFEST_VERSION;
  plan: DeploymentPlan;
}

/** `<name>.plan.json` beside `<name>.conf`. */
export function manifestPath(plan: DeploymentPlan): string {
  return plan.files.apache.replace(/\.conf$/, '') + MANIFEST_SUFFIX;
}

/**
 * The plan as a small JSON file beside the files rendered from it, so that `smoke` knows the
 * mount point, the script and the environments, and can re-render the same configuration
 * around a Hello World application.
 */
export function renderManifest(plan: DeploymentPlan): RenderedFile {
  const manifest: Manifest = { kind: MANIFEST_KIND, version: MANIFEST_VERSION, plan };
  return { path: manifestPath(plan), kind: 'manifest', content: JSON.stringify(manifest, null, 2) + '\n', mode: 0o644 };
}
