import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

/**
 * The layers of src/, bottom to top. A module may import from its own layer and from layers
 * below it, never from one above. The order follows the pipeline of ARCHITECTURE.md:
 *
 * - base: errors, findings (the one Finding type), version, context, util/ (generic helpers) and escape/ (quoting and checking
 *   values for Apache, Python and the shell). Pure, knows nothing of Trac or plans; plan
 *   validates with escape/ and render's templates escape with it.
 * - python, apache: the programs on this machine (an interpreter, the Apache binary and its
 *   layout, what the Apache user may do, a throwaway server). They know nothing of Trac
 *   environments or plans, so inspect may ask them (what the Apache user cannot read) and
 *   smoke/apply build on them.
 * - inspect: what is on disk (Inspection), with the sizing defaults it reports with.
 * - plan: options and every decision (DeploymentPlan), from an Inspection.
 * - render: plan -> files through templates; renders only, decides nothing.
 * - write: the files to disk.
 * - smoke, apply, ci, wizard, fleet: the jobs built on the pieces above; same layer, they may share.
 * - commands: one per command; each returns a typed outcome and prints nothing.
 * - report: outcomes as text or JSON (the CLI's view of them).
 * - cli: flags -> commands -> report, exit codes (its dynamic imports go downward).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'findings', 'version', 'context', 'util', 'escape'],
  ['python', 'apache'],
  ['inspect'],
  ['plan'],
  ['render'],
  ['write'],
  ['smoke', 'apply', 'ci', 'wizard', 'fleet'],
  ['commands'],
  ['report'],
  ['cli'],
];

/** Upward imports tolerated, `from -> to` relative to src/: none. Keep it empty. */
const ALLOWED_UPWARD: readonly string[] = [];

const SRC = path.join(ROOT, 'src');

/** The layer of a module path relative to src/ (e.g. "plan/types.ts" or "cli.ts"). */
export function layerOf(relative: string): number {
  const top = relative.split('/')[0]!.replace(/\.ts$/, '');
  const index = LAYERS.findIndex((layer) => layer.includes(top));
  if (index < 0) throw new Error(`src/${relative} is in no layer: add ${JSON.stringify(top)} to LAYERS`);
  return index;
}

/** Relative specifiers of static `import ... from`, `export ... from` and dynamic `import()`. */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) specifiers.push(match[1]!);
  }
  return specifiers.filter((s) => s.startsWith('.'));
}

/** `from -> to` for every import of `from` (relative to src/) that goes to a higher layer. */
export function upwardImports(from: string, source: string): string[] {
  const found: string[] = [];
  for (const specifier of importsOf(source)) {
    const to = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
    if (to.startsWith('..')) throw new Error(`src/${from} imports ${specifier}, outside src/`);
    if (layerOf(to) > layerOf(from)) found.push(`${from} -> ${to}`);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('layers', () => {
  const files = sourceFiles(SRC).map((f) => path.relative(SRC, f).split(path.sep).join('/'));

  it('every module imports only from its own layer or below', () => {
    const violations = files.flatMap((f) => upwardImports(f, fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(violations.filter((v) => !ALLOWED_UPWARD.includes(v))).toEqual([]);
  });

  it('the allow-list holds only violations that still exist', () => {
    const violations = new Set(files.flatMap((f) => upwardImports(f, fs.readFileSync(path.join(SRC, f), 'utf8'))));
    expect(ALLOWED_UPWARD.filter((v) => !violations.has(v))).toEqual([]);
  });

  it('finds static, re-exported and dynamic upward imports', () => {
    const source = [
      "import { renderPlan } from '../render/renderPlan.js';",
      "import type { DeploymentPlan } from '../plan/types.js';",
      "export { x } from '../write/writeFiles.js';",
      "import {\n  a,\n  b,\n} from '../smoke/runSmoke.js';",
      "const cli = await import('../cli.js');",
      "import { usageError } from '../errors.js';",
      "import fs from 'node:fs';",
    ].join('\n');
    expect(upwardImports('inspect/environment.ts', source)).toEqual([
      'inspect/environment.ts -> render/renderPlan.ts',
      'inspect/environment.ts -> plan/types.ts',
      'inspect/environment.ts -> write/writeFiles.ts',
      'inspect/environment.ts -> smoke/runSmoke.ts',
      'inspect/environment.ts -> cli.ts',
    ]);
    expect(upwardImports('cli/commands.ts', "await import('../commands/generate.js');")).toEqual([]);
  });

  it('render decides nothing: no usage errors from src/render/', () => {
    const deciding = files.filter((f) => f.startsWith('render/') && /\b(usageError|UserError)\b/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(deciding).toEqual([]);
  });

  it('knows the layer of every file', () => {
    for (const f of files) expect(() => layerOf(f)).not.toThrow();
  });
});
