import type { DeploymentPlan } from '../plan/types.js';

/**
 * Debian packages that provide Apache modules outside apache2 itself (names as in
 * mod_<name>.so). Modules not listed ship with apache2 (alias, auth_basic, authn_file,
 * authz_groupfile, auth_digest, authnz_ldap, ldap, expires, headers, access_compat...).
 */
const MODULE_PACKAGES: Readonly<Record<string, string>> = {
  wsgi: 'libapache2-mod-wsgi-py3',
  auth_gssapi: 'libapache2-mod-auth-gssapi',
  auth_kerb: 'libapache2-mod-auth-kerb',
  xsendfile: 'libapache2-mod-xsendfile',
  authnz_sspi: 'libapache2-mod-authnz-sspi',
};

/** What the role installs with ansible.builtin.apt, from the plan's modules and backends. */
export function debianPackages(plan: Pick<DeploymentPlan, 'apacheModules'>, options: { svn: boolean }): string[] {
  // python3-pkg-resources: ansible.builtin.pip parses requirements with it on the host.
  const packages = ['apache2', 'libapache2-mod-wsgi-py3', 'python3-venv', 'python3-pkg-resources'];
  for (const module of plan.apacheModules) {
    const pkg = MODULE_PACKAGES[module];
    if (pkg) packages.push(pkg);
  }
  // Debian's Subversion bindings exist only for the system Python (see ANCHORS).
  if (options.svn) packages.push('python3-subversion', 'subversion');
  return [...new Set(packages)];
}

/** Trac, its plugins and drivers as the controller's Python has them (trac_distributions.py). */
export interface Distributions {
  python: string;
  trac: string | null;
  plugins: { name: string; version: string }[];
  drivers: { psycopg2: { name: string; version: string } | null; pymysql: { name: string; version: string } | null };
}

/**
 * pip requirements for every host's virtualenv: the same Trac and plugin versions as the
 * controller (pinned with ==), setuptools below 82 (Trac 1.6 still imports pkg_resources), and
 * the database drivers the environments use.
 */
export function pipRequirements(dists: Distributions, backends: ReadonlySet<string>, tracVersion: string): string[] {
  const reqs = [`Trac==${tracVersion}`, 'setuptools<82'];
  if (backends.has('postgres')) reqs.push(pinned(dists.drivers.psycopg2, 'psycopg2-binary'));
  if (backends.has('mysql')) reqs.push(pinned(dists.drivers.pymysql, 'PyMySQL'));
  for (const plugin of dists.plugins) reqs.push(`${plugin.name}==${plugin.version}`);
  return reqs;
}

function pinned(found: { name: string; version: string } | null, fallback: string): string {
  return found ? `${found.name}==${found.version}` : fallback;
}
