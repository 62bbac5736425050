import { shWords } from '../escape/shell.js';
import type { Finding } from '../findings.js';
import type { Inspection } from '../inspect/types.js';
import type { DeploymentPlan } from './types.js';

/** One [trac] option that does not match the public URL, and the trac-admin words that set it. */
export interface TracSetting {
  env: string;
  option: 'base_url' | 'use_base_url_for_redirect' | 'secure_cookies';
  current: string | null;
  wanted: string;
  /** argv of `trac-admin ENV config set trac OPTION VALUE`. */
  argv: string[];
  why: string;
}

/**
 * What trac.ini should say for the URL the plan implies: base_url (used for links in
 * notifications and feeds, and by use_base_url_for_redirect); secure_cookies when the site is
 * https, so the trac_auth cookie never travels in clear; use_base_url_for_redirect behind a
 * proxy, where the Host Apache sees may not be the public one. Without a public URL (no
 * --server-name) nothing can be compared.
 */
export function tracUrlSettings(inspection: Inspection, plan: Pick<DeploymentPlan, 'publicUrl' | 'proxy'>): TracSetting[] {
  if (!plan.publicUrl) return [];
  const https = plan.publicUrl.startsWith('https:');
  const out: TracSetting[] = [];
  for (const env of inspection.environments) {
    const base = inspection.kind === 'parent' ? `${plan.publicUrl}/${encodeURIComponent(env.name)}` : plan.publicUrl;
    const now = env.urlSettings;
    const add = (option: TracSetting['option'], current: string | null, wanted: string, why: string) =>
      out.push({ env: env.path, option, current, wanted, argv: ['trac-admin', env.path, 'config', 'set', 'trac', option, wanted], why });
    if (now.baseUrl?.replace(/\/+$/, '') !== base) add('base_url', now.baseUrl, base, 'links in notifications, feeds and redirects name the public URL');
    if (https && now.secureCookies !== true) add('secure_cookies', boolText(now.secureCookies), 'true', 'the login cookie is sent over https only');
    if (!https && now.secureCookies === true) add('secure_cookies', 'true', 'false', 'over plain http a Secure cookie never comes back: logins would not stick');
    if (plan.proxy && now.useBaseUrlForRedirect !== true) {
      add('use_base_url_for_redirect', boolText(now.useBaseUrlForRedirect), 'true', 'behind a proxy, redirects go to base_url rather than to the host Apache was asked for');
    }
  }
  return out;
}

function boolText(value: boolean | null): string | null {
  return value === null ? null : String(value);
}

/** The mismatches as findings, each with the exact command (shell-quoted) that fixes it. */
export function tracSettingFindings(settings: TracSetting[], configured: boolean): Finding[] {
  return settings.map((s) => ({
    code: 'trac-ini-url-mismatch',
    severity: configured ? 'info' : 'warning',
    message: configured
      ? `[trac] ${s.option} set to ${s.wanted} (was ${s.current ?? 'unset'}): ${s.why}`
      : `[trac] ${s.option} is ${s.current ?? 'unset'}, the site needs ${s.wanted}: ${s.why}`,
    path: `${s.env}/conf/trac.ini`,
    ...(configured ? {} : { advice: [shWords(s.argv), 'or run generate again with --configure-trac (trac.ini is backed up first)'] }),
  }));
}
