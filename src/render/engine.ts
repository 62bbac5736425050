import Handlebars from 'handlebars';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpers } from './helpers.js';

/** templates/ beside src/ and dist/, so it works from the source tree and from a package. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

let instance: typeof Handlebars | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** One private Handlebars instance: no HTML escaping, strict lookups, our helpers and partials. */
function engine(): typeof Handlebars {
  if (instance) return instance;
  instance = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) instance.registerHelper(name, fn as Handlebars.HelperDelegate);
  const partialsDir = path.join(TEMPLATES_DIR, 'partials');
  for (const file of fs.readdirSync(partialsDir)) {
    if (file.endsWith('.hbs')) {
      instance.registerPartial(file.slice(0, -4), fs.readFileSync(path.join(partialsDir, file), 'utf8'));
    }
  }
  return instance;
}

/** Render templates/<name> (e.g. "wsgi/trac.wsgi.hbs") with a context object. */
export function renderTemplate(name: string, context: object): string {
  let template = compiled.get(name);
  if (!template) {
    const source = fs.readFileSync(path.join(TEMPLATES_DIR, name), 'utf8');
    template = engine().compile(source, { noEscape: true, strict: true });
    compiled.set(name, template);
  }
  return tidy(template(context));
}

/** Collapse the blank lines that block helpers leave behind; end with one newline. */
function tidy(text: string): string {
  return text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').replace(/\s*$/, '\n');
}
