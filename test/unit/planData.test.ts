import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { validateInterpreter } from '../../src/plan/validate.js';
import { resolveOptions } from '../../src/plan/resolveOptions.js';
import { DEFAULT_GENERATE_OPTIONS } from '../../src/plan/options.js';
import type { RequireRule } from '../../src/plan/types.js';
import { renderPlan } from '../../src/render/renderPlan.js';
import { sampleAuth, samplePlan } from '../helpers/samplePlan.js';

describe('the plan holds data; the templates escape it', () => {
  // Each rule and the Require line (after "Require ") the plan used to hold, already escaped.
  const RULES: [RequireRule, string][] = [
    [{ kind: 'valid-user' }, 'valid-user'],
    [{ kind: 'group', name: 'CORP\\Trac Users' }, 'group "CORP\\\\Trac Users"'],
    [{ kind: 'ldap-group', name: 'cn=Trac Users,ou=Groups,dc=example,dc=com' }, 'ldap-group cn=Trac Users,ou=Groups,dc=example,dc=com'],
    [{ kind: 'sspi-group', name: 'CORP\\Trac Users' }, 'sspi-group "CORP\\Trac Users"'],
  ];
  for (const [rule, line] of RULES) {
    it(`Require ${line}`, () => {
      const method = rule.kind === 'ldap-group' ? 'ldap' : rule.kind === 'sspi-group' ? 'sspi' : 'basic';
      const auth = { method, location: { match: false, path: '/trac/login' }, userFile: '/etc/htpasswd', groupFile: rule.kind === 'group' ? '/etc/groups' : null } as const;
      const ldap = method === 'ldap' ? { ldap: { url: 'ldap://dc/dc=x', bindDn: null, bindPasswordFile: null } } : {};
      const structured = renderPlan(samplePlan({ auth: sampleAuth({ ...auth, ...ldap, require: rule }) }));
      // A manifest written before the rule was data: the same bytes.
      const legacy = renderPlan(samplePlan({ auth: sampleAuth({ ...auth, ...ldap, require: line as unknown as RequireRule }) }));
      expect(structured.map((f) => f.content)).toEqual(legacy.map((f) => f.content));
      expect(structured[1]?.content).toContain(`Require ${line}\n`);
    });
  }

  it('the script adds the virtualenv when the plan says so, whatever the mode', () => {
    const python = { home: '/srv/venv', siteDirs: [], eggCache: '/tmp/eggs' };
    expect(renderPlan(samplePlan({ python: { ...python, venvInScript: true } }))[0]?.content).toContain('_venv_site');
    expect(renderPlan(samplePlan({ python: { ...python, venvInScript: false } }))[0]?.content).not.toContain('_venv_site');
  });

  it('a #! line takes one absolute path without spaces', () => {
    expect(validateInterpreter('/srv/venv/bin/python3')).toBe('/srv/venv/bin/python3');
    for (const bad of ['python3', '/srv/my venv/bin/python', '/a\0b']) expect(() => validateInterpreter(bad)).toThrow(UserError);
  });
});

describe('resolveOptions', () => {
  it('defaults < given; a key given as undefined keeps its default', () => {
    expect(resolveOptions({})).toEqual(DEFAULT_GENERATE_OPTIONS);
    expect(resolveOptions({ processes: 8, urlPrefix: undefined, name: 'x' })).toEqual({ ...DEFAULT_GENERATE_OPTIONS, processes: 8, name: 'x' });
  });
});
