import { execa } from 'execa';
import Handlebars from 'handlebars';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpers } from '../../src/render/helpers.js';
import { ROOT } from '../helpers/paths.js';
import { sampleAuth, samplePlan } from '../helpers/samplePlan.js';
import { tempDir } from '../helpers/tempDir.js';

type Spec = Parameters<typeof Handlebars.template>[0];

/**
 * The build precompiles templates/ (scripts/precompile-templates.mjs) and the CLI renders with
 * handlebars/runtime: every template must render exactly as compiling its source does.
 */
describe('precompiled templates', () => {
  it('render what the compiled sources render, for several plans', async () => {
    const out = path.join(await tempDir(), 'templates.compiled.cjs');
    await execa('node', [path.join(ROOT, 'scripts', 'precompile-templates.mjs'), '--out', out]);
    const entries = createRequire(import.meta.url)(out) as Record<string, { source: string; spec: Spec }>;
    const names = Object.keys(entries);
    expect(names).toEqual(expect.arrayContaining(['wsgi/trac.wsgi.hbs', 'apache/site.conf.hbs', 'cgi/trac.cgi.hbs', 'partials/auth.hbs']));
    const options = { noEscape: true, strict: true };
    const make = (precompiled: boolean) => {
      const hbs = Handlebars.create();
      for (const [name, fn] of Object.entries(helpers)) hbs.registerHelper(name, fn as Handlebars.HelperDelegate);
      for (const name of names.filter((n) => n.startsWith('partials/'))) {
        const entry = entries[name]!;
        expect(entry.source).toBe(fs.readFileSync(path.join(ROOT, 'templates', name), 'utf8'));
        hbs.registerPartial(name.slice('partials/'.length, -4), precompiled ? hbs.template(entry.spec) : hbs.compile(entry.source, options));
      }
      return (name: string, context: object) => (precompiled ? hbs.template(entries[name]!.spec) : hbs.compile(entries[name]!.source, options))(context);
    };
    const [viaRuntime, viaCompiler] = [make(true), make(false)];
    const plans = [
      samplePlan(),
      samplePlan({ mode: 'embedded', daemon: null }),
      samplePlan({ auth: sampleAuth({ method: 'basic', userFile: '/etc/trac.htpasswd', realm: 'Trac "x" %{y}', stripDomain: true } as never) }),
      samplePlan({ staticAliases: [{ urlPath: '/trac/chrome/common', dir: '/srv/deploy/htdocs/common' }] as never }),
    ];
    let rendered = 0;
    for (const name of names.filter((n) => /^(wsgi|apache|cgi)\//.test(n))) {
      for (const plan of plans) {
        let expected: string;
        try {
          expected = viaCompiler(name, plan);
        } catch (error) {
          // A plan this template cannot take (strict lookups) must fail the same way.
          expect(() => viaRuntime(name, plan)).toThrow((error as Error).message);
          continue;
        }
        expect(viaRuntime(name, plan), name).toBe(expected);
        rendered++;
      }
    }
    expect(rendered).toBeGreaterThan(8);
  });
});
