import { iniBool, type IniSections } from './configParser.js';

/**
 * Trac's component rules (trac/env.py): each [components] key, its trailing ".*" removed and
 * lower-cased, maps to enabled/disabled; a component is governed by its longest matching
 * dotted prefix; trac.* is enabled by default, everything else is not.
 */
export function componentRules(sections: IniSections): Map<string, boolean> {
  const rules = new Map<string, boolean>();
  for (const [name, value] of sections.get('components') ?? []) {
    const enabled = iniBool(value);
    if (enabled !== undefined) rules.set(name.replace(/[.*]+$/, '').toLowerCase(), enabled);
  }
  return rules;
}

export function isComponentEnabled(rules: Map<string, boolean>, componentName: string): boolean {
  let name = componentName.toLowerCase();
  while (name) {
    const rule = rules.get(name);
    if (rule !== undefined) return rule;
    const dot = name.lastIndexOf('.');
    if (dot < 0) break;
    name = name.slice(0, dot);
  }
  const full = componentName.toLowerCase();
  return full.startsWith('trac.') && !full.startsWith('trac.test.') && !full.startsWith('trac.tests.');
}

/** The version-control connectors Trac ships in tracopt, by repository type. */
export const CONNECTORS: Readonly<Record<string, string>> = {
  svn: 'tracopt.versioncontrol.svn.svn_fs.SubversionConnector',
  git: 'tracopt.versioncontrol.git.git_fs.GitConnector',
};

export function enabledConnectors(rules: Map<string, boolean>): string[] {
  return Object.entries(CONNECTORS)
    .filter(([, component]) => isComponentEnabled(rules, component))
    .map(([type]) => type);
}

/** Enabled rules for components outside trac and tracopt: the third-party plugins in use. */
export function thirdPartyComponents(rules: Map<string, boolean>): string[] {
  return [...rules]
    .filter(([name, enabled]) => enabled && !/^(trac|tracopt)(\.|$)/.test(name))
    .map(([name]) => name)
    .sort();
}

/** Components known to replace Trac's REMOTE_USER login with a form of their own. */
export const LOGIN_FORM_COMPONENTS = ['acct_mgr.web_ui.LoginModule'] as const;

export function enabledLoginForms(rules: Map<string, boolean>): string[] {
  return LOGIN_FORM_COMPONENTS.filter((component) => isComponentEnabled(rules, component));
}
