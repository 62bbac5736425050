// Bundles dist/ (after tsc) into dist/bundle/: trac-deploy.js (what bin/trac-deploy.js loads),
// a chunk per lazily loaded command, and inspectWorker.js (inspect's worker threads). Node
// then reads a few files instead of resolving ~150 modules on every run. better-sqlite3 (native)
// and handlebars' runtime (loaded with require) stay in node_modules. Paths relative to the
// module (python/, templates/) are the same from dist/bundle/ as from dist/<layer>/.
// CommonJS (dist/bundle/package.json says so), so that bin/codeCache.cjs can hand V8 the code
// cache of each file (vm.Script cachedData; Node 20 has no code cache for ES modules). Dynamic
// imports become require() calls: a vm.Script has no loader for import().
// Run by `npm run build` after tsc and scripts/precompile-templates.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'bundle');
// Built beside and swapped in with renames: a CLI running from the old bundle meanwhile (tests
// run while `npm pack` rebuilds) finds its chunks, whose names are hashes of their content.
const NEXT = `${OUT}.next-${process.pid}`;
const OLD = `${OUT}.old-${process.pid}`;
fs.rmSync(NEXT, { recursive: true, force: true });
/**
 * string-width (yargs, cliui and wrap-ansi each import a copy) makes an Intl.Segmenter and
 * /v-flag emoji regexes when its module runs: about 20 ms of ICU loading on every start, for a
 * function only help text calls. Each ES module import of it becomes a stub that loads that
 * same copy on its first call.
 */
function lazyStringWidth() {
  const PREFIX = '\0lazy-string-width:';
  return {
    name: 'lazy-string-width',
    async resolveId(source, importer, options) {
      // Only ES module imports of it: a require() (the CommonJS string-width 4 of @inquirer's
      // wrap-ansi, which makes no Segmenter) wants module.exports to be the function itself.
      if (source !== 'string-width' || !importer || importer.startsWith(PREFIX) || options?.kind !== 'import-statement') return null;
      const real = await this.resolve(source, importer, { ...options, skipSelf: true });
      return real && !real.external ? PREFIX + real.id : null;
    },
    load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const real = JSON.stringify(id.slice(PREFIX.length));
      return `let real;\nexport default function stringWidth(string, options) {\n  real ??= require(${real}).default;\n  return real(string, options);\n}\n`;
    },
  };
}

/**
 * Costs yargs puts on every start, for nothing a run of trac-deploy uses:
 * - argsert (its check of the arguments of each of its own API calls: ~8 calls per option, ~60
 *   options for generate) parses its type string anew on each call: parsed once per string here;
 * - its platform shim imports node:assert (~1 ms) for two checks of its own state, made on every
 *   run: the same comparison (Object.is), node:assert loaded only to throw its error;
 * - the search for a package.json for its default --version (below).
 * A yargs whose text no longer matches is left as it is (the build says so).
 */
function lighterYargs() {
  const edits = [
    {
      file: /[\\/]yargs[\\/]build[\\/]lib[\\/]argsert\.js$/,
      from: 'parseCommand(`cmd ${arg1}`)',
      to: 'parsedSpec(arg1)',
      append: '\nconst parsedSpecs = new Map();\nfunction parsedSpec(spec) {\n  let parsed = parsedSpecs.get(spec);\n  if (parsed === undefined) parsedSpecs.set(spec, (parsed = parseCommand(`cmd ${spec}`)));\n  return parsed;\n}\n',
    },
    {
      file: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/,
      from: "import { notStrictEqual, strictEqual } from 'assert'",
      // assert's own comparison (Object.is); assert itself only to throw its error.
      to: [
        'const notStrictEqual = (actual, expected, message) => { if (Object.is(actual, expected)) require("node:assert").notStrictEqual(actual, expected, message) }',
        'const strictEqual = (actual, expected, message) => { if (!Object.is(actual, expected)) require("node:assert").strictEqual(actual, expected, message) }',
      ].join('\n'),
      append: '',
    },
    {
      // Where yargs looks for the package.json of its default --version (which trac-deploy
      // replaces): above the node_modules it was installed in; bundled it is in none, and it read
      // every directory from the current one up to / (a readdir each). trac-deploy's own root.
      file: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/,
      from: "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));",
      to: "const mainFilename = resolve(dirname(__dirname), '..', '..');",
      append: '',
    },
  ];
  return {
    name: 'lighter-yargs',
    transform(code, id) {
      const mine = edits.filter((e) => e.file.test(id));
      if (mine.length === 0) return null;
      let text = code;
      for (const edit of mine) {
        if (text.includes(edit.from)) text = text.replace(edit.from, edit.to) + edit.append;
        else this.warn(`${id}: not the text expected (another yargs?): ${edit.from.slice(0, 40)}... left as it is`);
      }
      return { code: text, map: null };
    },
  };
}

const bundle = await rolldown({
  input: { 'trac-deploy': path.join(ROOT, 'dist/cli/binMain.js'), inspectWorker: path.join(ROOT, 'dist/inspect/inspectWorker.js') },
  platform: 'node',
  external: ['better-sqlite3'],
  plugins: [lazyStringWidth(), lighterYargs()],
  logLevel: 'warn',
  onLog(level, log, handler) {
    // yargs' `extends` (import.meta.resolve of a config file) becomes {} in CommonJS: trac-deploy
    // never passes yargs a configuration to extend.
    if (log.code === 'EMPTY_IMPORT_META' && /[\\/]yargs[\\/]/.test(log.id ?? log.message ?? '')) return;
    handler(level, log);
  },
});
await bundle.write({ dir: NEXT, format: 'cjs', dynamicImportInCjs: false, entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' });
await bundle.close();
fs.writeFileSync(path.join(NEXT, 'package.json'), '{ "type": "commonjs" }\n');
for (const name of fs.readdirSync(NEXT).filter((n) => n.endsWith('.js'))) {
  const text = fs.readFileSync(path.join(NEXT, name), 'utf8');
  const left = /(?<![\w.$]|typeof )import\s*\(/.exec(text);
  if (left) throw new Error(`dist/bundle/${name} still has a dynamic import() (at ${left.index}): it would fail under bin/codeCache.cjs`);
}
const compiled = path.join(ROOT, 'dist', 'render', 'templates.compiled.cjs');
if (fs.existsSync(compiled)) fs.copyFileSync(compiled, path.join(NEXT, 'templates.compiled.cjs'));
// Stamped last: bin/trac-deploy.js uses the bundle only when it is newer than dist/cli.js.
const now = new Date();
fs.utimesSync(path.join(NEXT, 'trac-deploy.js'), now, now);
if (fs.existsSync(OUT)) fs.renameSync(OUT, OLD);
fs.renameSync(NEXT, OUT);
fs.rmSync(OLD, { recursive: true, force: true });
