import { inspectPath } from '../inspect/inspectPath.js';
import { withPreflight } from '../inspect/preflight.js';
import type { Inspection } from '../inspect/types.js';
import type { EnvironmentUses } from '../plan/types.js';
import type { SmokeTarget } from './targets.js';

/**
 * What each environment uses now (repositories Trac opens, one attachment whose file exists,
 * xsendfile), asked of Trac by the preflight when smoke runs, in the plan's interpreter. Not
 * stored in the plan file: an attachment uploaded tomorrow must not make `generate --check`
 * report drift, and the pages checked must be the ones that exist today.
 */
export async function withEnvironmentUses(targets: SmokeTarget[]): Promise<SmokeTarget[]> {
  const out: SmokeTarget[] = [];
  for (const target of targets) {
    const plan = target.plan;
    if (!plan) {
      out.push(target);
      continue;
    }
    const inspection = await inspectPath(plan.source.path).catch(() => null);
    const asked = inspection
      ? await withPreflight(inspection, { pythonHome: plan.python.home, siteDirs: plan.python.siteDirs, eggCache: plan.python.eggCache }).catch(() => null)
      : null;
    const byPath = new Map((asked?.environments ?? []).map((e) => [e.path, e.preflight ? usesOf(e.preflight) : undefined]));
    const environments = plan.source.environments.map((e) => {
      const uses = byPath.get(e.path);
      return uses ? { ...e, uses } : e;
    });
    out.push({ ...target, plan: { ...plan, source: { ...plan.source, environments } } });
  }
  return out;
}

function usesOf(pre: NonNullable<Inspection['environments'][number]['preflight']>): EnvironmentUses {
  return {
    repositories: pre.repositories.filter((r) => r.ok && !r.hidden && !r.alias).map((r) => r.name),
    attachment: pre.attachment,
    xsendfile: pre.xsendfile?.on ?? false,
  };
}
