import path from 'node:path';
import { usageError } from '../errors.js';
import type { Inspection } from '../inspect/types.js';
import { DEFAULT_GENERATE_OPTIONS, GENERATE_OPTION_SPECS } from '../plan/options.js';
import type { GivenOptions } from '../wizard/questions.js';
import { renderTemplate } from '../render/engine.js';
import { VERSION } from '../version.js';
import type { CiProvider } from './providers.js';
import { standInCommands } from './standIn.js';
import { standInDirs } from './standInDirs.js';
import { standInTlsFiles } from './standInTls.js';

export { CI_DEFAULT_FILES, CI_PROVIDERS, type CiProvider } from './providers.js';

export interface WorkflowInput {
  provider: CiProvider;
  inspection: Inspection;
  /** The generate flags the configuration was made with (only those given). */
  given: GivenOptions;
  /** The directory in the repository that holds the committed configuration. */
  configDir: string;
  /** The directory on the server the configuration was generated for (generate --out). */
  deployDir: string;
  tracVersion: string;
  /** What `npm install -g` installs: trac-deploy@<version>, a tarball, a git URL. */
  packageSpec: string;
  /** The chrome keys the configuration serves from --htdocs (the plan's static aliases). */
  staticKeys: string[];
}

/** A step: a name and its command lines, each an argv the template shell-quotes. */
export interface WorkflowStep {
  name: string;
  lines: string[][];
}

/** The generate flags as they were given, in the option table's order. */
export function generateFlagArgs(given: GivenOptions): string[] {
  const args: string[] = [];
  for (const spec of GENERATE_OPTION_SPECS) {
    const value = given[spec.key];
    if (value === undefined) continue;
    if (spec.type === 'boolean') args.push(value ? `--${spec.flag}` : `--no-${spec.flag}`);
    else if (Array.isArray(value)) for (const v of value) args.push(`--${spec.flag}`, String(v));
    else args.push(`--${spec.flag}`, String(value));
  }
  return args;
}

/** The trac-deploy command lines the workflow runs; the tests run exactly these. */
export function workflowCommands(input: Pick<WorkflowInput, 'inspection' | 'given' | 'deployDir'>): { check: string[]; smoke: string[] } {
  return {
    // --no-preflight: a stand-in has none of the real data or database to ask Trac about; the check
    // compares what is rendered, and smoke then asks Trac about the stand-in for real.
    check: ['trac-deploy', 'generate', input.inspection.path, '--out', input.deployDir, ...generateFlagArgs(input.given), '--no-preflight', '--check'],
    smoke: ['trac-deploy', 'smoke', input.deployDir],
  };
}

export function workflowSteps(input: WorkflowInput): WorkflowStep[] {
  if (!/^\d+(\.\d+)*$/.test(input.tracVersion)) throw usageError(`--trac-version ${JSON.stringify(input.tracVersion)} is not a version like 1.6`);
  const home = input.given.pythonHome ? path.resolve(input.given.pythonHome) : null;
  const tracSpec = `Trac==${input.tracVersion}.*`;
  const install: string[][] = [
    ['apt-get', 'update', '-qq'],
    [
      'apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'apache2', 'libapache2-mod-wsgi-py3', 'python3-venv', 'python3-pip',
      ...(input.given.auth === 'kerberos' ? ['libapache2-mod-auth-gssapi'] : []),
      ...(input.given.tlsCert ? ['openssl'] : []),
    ],
  ];
  // The virtualenv at the deployed python-home, made from the Python mod_wsgi embeds; without
  // one, Trac goes into that Python itself.
  if (home) {
    install.push(['/usr/bin/python3', '-m', 'venv', home]);
    install.push([path.join(home, 'bin', 'pip'), 'install', '-q', tracSpec, 'setuptools<82']);
  } else {
    install.push(['/usr/bin/python3', '-m', 'pip', 'install', '-q', '--break-system-packages', tracSpec, 'setuptools<82']);
  }
  const tracAdmin = home ? path.join(home, 'bin', 'trac-admin') : 'trac-admin';
  const standIn = standInCommands(input.inspection.environments, tracAdmin, home ? path.join(home, 'bin', 'python') : '/usr/bin/python3');
  const owner = ['chown', '-R', 'www-data:www-data', input.inspection.path];
  const made = input.inspection.kind === 'parent' ? input.inspection.path : path.dirname(input.inspection.path);
  const commands = workflowCommands(input);
  const authFiles = standInAuthFiles(input.given);
  const tlsFiles = standInTlsFiles(input.given);
  const firstEnv = input.inspection.environments[0]?.path ?? input.inspection.path;
  const dirs = standInDirs(input.given, input.staticKeys, tracAdmin, firstEnv);
  const steps: WorkflowStep[] = [
    { name: `Install Apache, mod_wsgi and Trac ${input.tracVersion}`, lines: install },
    // npm 11 runs no install script in a global install unless allowed; better-sqlite3 needs
    // its own (npm 10, in the image, runs it anyway and ignores the setting).
    { name: 'Install trac-deploy', lines: [['env', 'npm_config_allow_scripts=better-sqlite3', 'npm', 'install', '-g', '--no-audit', '--no-fund', input.packageSpec]] },
    {
      name: 'Stand-in Trac environments at the deployed paths',
      lines: [['mkdir', '-p', made], ...standIn.make, ...standIn.deployedDatabase, owner],
    },
    ...(authFiles.length > 0 ? [{ name: 'Stand-in files Apache reads for logins (no secret: nobody logs in here)', lines: authFiles }] : []),
    ...(dirs.length > 0 ? [{ name: 'Stand-in directories the flags name (--site-dir, --htdocs with the runner Trac\'s static files)', lines: dirs }] : []),
    ...(tlsFiles.length > 0 ? [{ name: 'Stand-in certificate and key at the deployed paths (self-signed here; the real key stays on the server)', lines: tlsFiles }] : []),
    { name: 'Put the committed configuration where it is deployed', lines: [['mkdir', '-p', input.deployDir], ['cp', '-R', `${input.configDir.replace(/\/+$/, '')}/.`, `${input.deployDir}/`]] },
    { name: 'No drift between the committed configuration and trac-deploy generate', lines: [commands.check] },
  ];
  if (standIn.sqliteForSmoke.length > 0) {
    steps.push({ name: 'Serve the stand-ins from their own SQLite database (the real server is not reachable here)', lines: [...standIn.sqliteForSmoke, owner] });
  }
  steps.push({ name: 'Smoke test through a real Apache', lines: [commands.smoke] });
  return steps;
}

/**
 * generate --check needs the files a login configuration names to exist (and a digest file to
 * hold the realm). The runner has none of them, and their content is secret: each is made, only
 * where missing, with nothing in it that logs anyone in.
 */
export function standInAuthFiles(given: GivenOptions): string[][] {
  const files: [string | undefined, string][] = [
    [given.authUserFile, given.auth === 'digest' ? `ci-stand-in:${given.authRealm ?? DEFAULT_GENERATE_OPTIONS.authRealm}:0` : ''],
    [given.authGroupFile, ''],
    [given.authKeytab, ''],
    [given.authLdapBindPasswordFile, ''],
  ];
  const make = 'test -e "$1" || { mkdir -p "$(dirname "$1")" && printf %s "$2" > "$1"; }';
  return files.flatMap(([file, content]) => (file ? [['sh', '-c', make, 'sh', path.resolve(file), content]] : []));
}

export function renderWorkflow(input: WorkflowInput): string {
  return renderTemplate(`ci/${input.provider}.yml.hbs`, {
    version: VERSION,
    tracVersion: input.tracVersion,
    configDir: input.configDir,
    steps: workflowSteps(input),
  });
}
