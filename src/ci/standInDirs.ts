import path from 'node:path';
import type { GivenOptions } from '../wizard/questions.js';

/**
 * Directories the flags name that generate --check needs on the runner: each --site-dir (it
 * only has to exist there), and --htdocs, whose subdirectories are the chrome keys the
 * configuration aliases. Where --htdocs is missing, the runner's own Trac (the same version)
 * deploys the stand-in environment's static files into it, so smoke finds trac.css where Apache
 * serves it, and each key the committed configuration names gets its directory. Nothing that
 * exists is touched.
 */
export function standInDirs(given: GivenOptions, staticKeys: string[], tracAdmin: string, standInEnv: string): string[][] {
  const lines: string[][] = given.siteDir?.length ? [['mkdir', '-p', ...given.siteDir.map((d) => path.resolve(d))]] : [];
  if (given.htdocs) {
    const make = [
      'if [ ! -e "$1" ]; then',
      't=$(mktemp -d) && "$2" "$3" deploy "$t/deployed" >/dev/null && mkdir -p "$1" && cp -R "$t/deployed/htdocs/." "$1/" && rm -rf "$t";',
      'fi;',
      'h=$1; shift 3; for key in "$@"; do mkdir -p "$h/$key"; done',
    ].join(' ');
    lines.push(['sh', '-c', make, 'sh', path.resolve(given.htdocs), tracAdmin, standInEnv, ...staticKeys]);
  }
  return lines;
}
