import { EXIT, usageError } from '../errors.js';
import type { Finding } from '../findings.js';
import type { Inspection } from '../inspect/types.js';
import type { GenerateOptions } from '../plan/options.js';
import { resolveOptions } from '../plan/resolveOptions.js';
import { publicUrlDecision, tracIniUrlFindings, tracSettingFindings, tracUrlSettings } from '../plan/tracUrlSettings.js';
import { nameFromPath } from '../plan/validate.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { keptLookupsOf, recallEarly, withPreflight, type PreflightOptions } from '../inspect/preflight.js';
import type { ClientRunner } from '../inspect/probeDatabase.js';
import type { InspectOutcome } from './outcome.js';

export interface InspectArgs {
  path: string;
  /** The daemon size the connection estimate is made for. */
  processes: number;
  threads: number;
  /** Ask each database server for max_connections. */
  probeDb: boolean;
  /** Ask Trac itself (python/preflight.py) in this virtualenv (else python3) with these site dirs. */
  preflight: boolean;
  pythonHome?: string | undefined;
  siteDir?: string[] | undefined;
  eggCache?: string | undefined;
  /**
   * The flags generate takes that make the public URL (--server-name, --tls-cert/--tls-key,
   * --behind-proxy, --url-prefix, ports): with --server-name trac.ini is compared with that URL,
   * without it only with itself.
   */
  site?: Partial<GenerateOptions> | undefined;
}

export async function runInspect(args: InspectArgs, runClient?: ClientRunner): Promise<InspectOutcome> {
  const asking: PreflightOptions = { pythonHome: args.pythonHome ?? null, siteDirs: args.siteDir ?? [], eggCache: args.eggCache ?? null, keepVerdict: {} };
  // The kept verdict is looked up while the environment is inspected.
  const recalled = args.preflight ? recallEarly(args.path, asking) : null;
  // A directory's kept verdicts are looked at as each of its environments is judged.
  let inspection = await inspectPath(args.path, { processes: args.processes, threads: args.threads }, keptLookupsOf(recalled));
  if (args.preflight) {
    inspection = await withPreflight(inspection, { ...asking, recalled });
  }
  if (args.probeDb) {
    // Loaded only when asked: it brings execa, which costs start-up time on every inspect.
    const { probeDatabaseServers } = await import('../inspect/probeDatabase.js');
    const { servers, problems } = await probeDatabaseServers(inspection, runClient);
    inspection = { ...inspection, databaseServers: servers, problems: [...inspection.problems, ...problems] };
  }
  // Each is about one environment's trac.ini: it joins that environment's problems (and --json).
  // Grouped by file first: with --server-name every one of 100,000 environments may have one,
  // and a search of all of them per environment would be 10^10 comparisons.
  const url = new Map<string | undefined, Finding[]>();
  for (const finding of await urlFindings(inspection, args.site ?? {})) {
    const same = url.get(finding.path);
    if (same) same.push(finding);
    else url.set(finding.path, [finding]);
  }
  // An environment without one stays the object it is (100,000 copies would be ~25 MB more heap).
  inspection = {
    ...inspection,
    environments: inspection.environments.map((env) => {
      const own = url.get(`${env.path}/conf/trac.ini`);
      return own ? { ...env, problems: [...env.problems, ...own] } : env;
    }),
  };
  return { kind: 'inspect', exitCode: EXIT.ok, inspection, findings: allProblems(inspection) };
}

/** trac.ini's base_url, use_base_url_for_redirect and secure_cookies: against the public URL generate would plan, or against each other. */
async function urlFindings(inspection: Inspection, given: Partial<GenerateOptions>): Promise<Finding[]> {
  const options = resolveOptions(given);
  if (!options.serverName) {
    const needName = (['serverAlias', 'tlsCert', 'tlsKey', 'tlsChain', 'behindProxy'] as const).filter((k) => {
      const v = given[k];
      return Array.isArray(v) ? v.length > 0 : v !== undefined;
    });
    const flags: Record<string, string> = { serverAlias: '--server-alias', tlsCert: '--tls-cert', tlsKey: '--tls-key', tlsChain: '--tls-chain', behindProxy: '--behind-proxy' };
    if (needName.length > 0) throw usageError(`${needName.map((k) => flags[k]).join(', ')} describe${needName.length === 1 ? 's' : ''} the public URL, which needs --server-name: give inspect the --server-name generate gets`);
    return tracIniUrlFindings(inspection);
  }
  const decision = await publicUrlDecision(options, options.name ?? nameFromPath(inspection.path));
  return tracSettingFindings(tracUrlSettings(inspection, decision), false);
}
