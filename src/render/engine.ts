import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as runtimeModule from 'handlebars/runtime.js';
import { helpers } from './helpers.js';

type Handlebars = typeof import('handlebars');
type TemplateSpec = Parameters<Handlebars['template']>[0];

/** templates/ beside src/ and dist/, so it works from the source tree and from a package. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

/** How every template is compiled: no HTML escaping (we escape per language), strict lookups. */
const OPTIONS = { noEscape: true, strict: true } as const;

const require = createRequire(import.meta.url);
let instance: Handlebars | undefined;
let precompiled: Record<string, { source: string; spec: TemplateSpec }> | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/**
 * The templates precompiled at build time (scripts/precompile-templates.mjs), keyed by their
 * path under templates/; empty when the build made none (tsc alone, or the TypeScript sources).
 */
function precompiledTemplates(): Record<string, { source: string; spec: TemplateSpec }> {
  if (!precompiled) {
    try {
      precompiled = require('./templates.compiled.cjs') as Record<string, { source: string; spec: TemplateSpec }>;
    } catch {
      precompiled = {};
    }
  }
  return precompiled;
}

/**
 * One private Handlebars instance with our helpers and partials: the small runtime when every
 * template in use was precompiled from the file as it is now, else the full compiler.
 */
function engine(needCompiler: boolean): Handlebars {
  if (instance && (!needCompiler || typeof instance.compile === 'function')) return instance;
  // The runtime is imported (so the bundle carries it, and bin/codeCache.cjs keeps its compiled
  // code); the compiler, needed only for a template changed since the build, is required.
  const base = (needCompiler ? require('handlebars') : (runtimeModule as unknown as { default: Handlebars }).default) as Handlebars & { default?: Handlebars };
  const created = (base.default ?? base).create();
  for (const [name, fn] of Object.entries(helpers)) created.registerHelper(name, fn as Handlebars.HelperDelegate);
  const partialsDir = path.join(TEMPLATES_DIR, 'partials');
  for (const file of fs.readdirSync(partialsDir)) {
    if (!file.endsWith('.hbs')) continue;
    const name = file.slice(0, -4);
    const fresh = fromPrecompiled(created, `partials/${file}`, fs.readFileSync(path.join(partialsDir, file), 'utf8'));
    if (fresh) created.registerPartial(name, fresh);
    else if (typeof created.compile === 'function') created.registerPartial(name, created.compile(fs.readFileSync(path.join(partialsDir, file), 'utf8'), OPTIONS));
    else return engine(true);
  }
  instance = created;
  compiled.clear();
  return instance;
}

/** The precompiled template of NAME, if it was made from SOURCE. */
function fromPrecompiled(hbs: Handlebars, name: string, source: string): Handlebars.TemplateDelegate | null {
  const entry = precompiledTemplates()[name];
  return entry && entry.source === source ? hbs.template(entry.spec) : null;
}

/** Render templates/<name> (e.g. "wsgi/trac.wsgi.hbs") with a context object. */
export function renderTemplate(name: string, context: object): string {
  if (!compiled.has(name)) prepareTemplates([name]);
  return tidy(compiled.get(name)!(context));
}

/** Collapse the blank lines that block helpers leave behind; end with one newline. */
function tidy(text: string): string {
  return text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').replace(/\s*$/, '\n');
}

/**
 * Loads the engine and the templates NAMES ahead of rendering (what renderTemplate would do on
 * its first call), for a command that waits on something else meanwhile (deploy, on Python).
 */
export function prepareTemplates(names: readonly string[]): void {
  for (const name of names) {
    if (compiled.has(name)) continue;
    const source = fs.readFileSync(path.join(TEMPLATES_DIR, name), 'utf8');
    const fresh = precompiledTemplates()[name]?.source === source;
    const hbs = engine(!fresh);
    compiled.set(name, fresh ? fromPrecompiled(hbs, name, source)! : hbs.compile(source, OPTIONS));
  }
}
