import { parseDatabaseUrl } from '../../src/inspect/databaseUrl.js';
import type { EnvironmentInfo, Inspection } from '../../src/inspect/types.js';

/** An inspected environment with plain defaults, for planner tests that need no disk. */
export function environmentInfo(overrides: Partial<EnvironmentInfo> = {}): EnvironmentInfo {
  return {
    name: 'env',
    path: '/srv/trac/env',
    formatVersion: 1,
    databaseVersion: 45,
    tracRelease: '1.4 or 1.6',
    project: { name: 'P', description: null },
    database: null,
    repositories: [],
    connectors: [],
    plugins: [],
    enabledComponents: [],
    inherit: { files: [], htdocsDir: null, templatesDir: null, pluginsDir: null },
    ignoreAuthCase: false,
    urlSettings: { baseUrl: null, useBaseUrlForRedirect: null, secureCookies: null },
    domainUsers: [],
    loginFormComponents: [],
    problems: [],
    ...overrides,
  };
}

/** An environment named NAME at /srv/trac/NAME on the given [trac] database string. */
export function environmentOn(name: string, database: string | null): EnvironmentInfo {
  return environmentInfo({
    name,
    path: `/srv/trac/${name}`,
    project: { name, description: null },
    database: database === null ? null : parseDatabaseUrl(database),
  });
}

/** An inspection of one environment, or of /srv/trac holding several. */
export function inspectionOf(kind: Inspection['kind'], ...environments: EnvironmentInfo[]): Inspection {
  return {
    kind,
    path: kind === 'parent' ? '/srv/trac' : (environments[0]?.path ?? '/srv/trac/env'),
    environments,
    skipped: [],
    problems: [],
    databaseServers: [],
  };
}
