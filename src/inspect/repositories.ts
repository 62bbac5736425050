import { iniBool, iniGet, type IniSections } from './configParser.js';
import type { Repository } from './types.js';

const REPOSITORY_PROPS = ['dir', 'type', 'alias', 'url', 'hidden', 'description', 'cached', 'sync_per_request'];

/**
 * Repositories configured in trac.ini: `[repositories] <name>.<prop>` (empty name = default),
 * and the pre-0.12 `[trac] repository_dir` / `repository_type`.
 */
export function iniRepositories(sections: IniSections): Repository[] {
  const defaultType = iniGet(sections, 'versioncontrol', 'default_repository_type') || 'svn';
  const byName = new Map<string, Map<string, string>>();
  for (const [key, value] of sections.get('repositories') ?? []) {
    const dot = key.lastIndexOf('.');
    if (dot < 0) continue;
    const prop = key.slice(dot + 1);
    if (!REPOSITORY_PROPS.includes(prop)) continue;
    const name = key.slice(0, dot);
    const props = byName.get(name) ?? new Map<string, string>();
    props.set(prop, value);
    byName.set(name, props);
  }
  const repositories: Repository[] = [...byName].map(([name, props]) => ({
    name,
    type: props.get('type') || (props.get('alias') ? 'alias' : defaultType),
    dir: props.get('dir') || null,
    alias: props.get('alias') || null,
    hidden: iniBool(props.get('hidden')) ?? false,
    source: 'repositories-section' as const,
  }));
  const oldDir = iniGet(sections, 'trac', 'repository_dir');
  if (oldDir && !byName.has('')) {
    repositories.push({
      name: '',
      type: iniGet(sections, 'trac', 'repository_type') || defaultType,
      dir: oldDir,
      alias: null,
      hidden: false,
      source: 'trac-section',
    });
  }
  return repositories;
}

/** Resolve an alias to the type of the repository it points at, for reporting. */
export function resolveAliasTypes(repositories: Repository[]): Repository[] {
  const byName = new Map(repositories.map((r) => [r.name, r]));
  return repositories.map((r) => {
    if (!r.alias) return r;
    const target = byName.get(r.alias);
    return target ? { ...r, type: target.type } : r;
  });
}
