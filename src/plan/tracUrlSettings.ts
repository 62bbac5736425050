import { shWords } from '../escape/shell.js';
import type { Finding } from '../findings.js';
import type { Inspection } from '../inspect/types.js';
import type { GenerateOptions } from './options.js';
import { decideProxy } from './proxyDecision.js';
import { decideSite, publicUrlOf } from './siteDecision.js';
import type { DeploymentPlan } from './types.js';
import { validateUrlPrefix } from './validate.js';

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
    ...(configured ? {} : { advice: [shWords(s.argv), 'or run generate with the same flags and --configure-trac (trac.ini is backed up first)'] }),
  }));
}

type UrlOptions = Pick<GenerateOptions, 'urlPrefix' | 'serverName' | 'serverAlias' | 'tlsCert' | 'tlsKey' | 'tlsChain' | 'hsts' | 'httpPort' | 'httpsPort' | 'logDir' | 'behindProxy'>;

/**
 * The public URL and proxy decision of a plan, for inspect: the same functions planDeployment
 * calls (decideSite, decideProxy, publicUrlOf), on the same flags, so both compare trac.ini with
 * the same URL.
 */
export async function publicUrlDecision(options: UrlOptions, name: string): Promise<Pick<DeploymentPlan, 'publicUrl' | 'proxy'>> {
  const urlPrefix = validateUrlPrefix(options.urlPrefix);
  const site = await decideSite(options, name);
  const proxy = decideProxy(options.behindProxy);
  return { publicUrl: publicUrlOf(site.site, proxy !== null, urlPrefix), proxy };
}

/**
 * What trac.ini says that cannot be right whatever the public URL is (inspect without
 * --server-name): the settings contradict one another. Each with the trac-admin command(s) that
 * resolve it; where the right value is the public URL, inspect --server-name gives it exactly.
 */
export function tracIniUrlFindings(inspection: Inspection): Finding[] {
  const findings: Finding[] = [];
  for (const env of inspection.environments) {
    const { baseUrl, useBaseUrlForRedirect, secureCookies } = env.urlSettings;
    const set = (option: TracSetting['option'], value: string) => shWords(['trac-admin', env.path, 'config', 'set', 'trac', option, value]);
    const add = (message: string, advice: string[]) =>
      findings.push({ code: 'trac-ini-url-inconsistent', severity: 'warning', message, path: `${env.path}/conf/trac.ini`, advice });
    const exact = `or give inspect the --server-name (--tls-cert/--tls-key, --behind-proxy, --url-prefix) generate gets, for the exact base_url`;
    const scheme = baseUrl ? /^(https?):\/\/[^/]/i.exec(baseUrl)?.[1]?.toLowerCase() ?? null : null;
    if (baseUrl && scheme === null) {
      add(`[trac] base_url ${JSON.stringify(baseUrl)} is not an http:// or https:// URL: links in notifications and feeds${useBaseUrlForRedirect ? ' and every redirect' : ''} point nowhere`, [
        `${set('base_url', 'https://HOST/PATH')} (the URL people open)`,
        exact,
      ]);
    }
    if (scheme === 'https' && secureCookies !== true) {
      add(`[trac] base_url is https but secure_cookies is ${secureCookies === null ? 'unset (false)' : 'false'}: the login cookie may also travel over plain http`, [set('secure_cookies', 'true')]);
    }
    if (scheme === 'http' && secureCookies === true) {
      add('[trac] secure_cookies is true but base_url is http: over plain http a Secure cookie never comes back, so logins and forms fail there', [
        `${set('base_url', `https${baseUrl?.slice(4) ?? ''}`)} (the site is https)`,
        `or ${set('secure_cookies', 'false')} (the site is plain http)`,
      ]);
    }
    if (useBaseUrlForRedirect === true && !baseUrl) {
      add('[trac] use_base_url_for_redirect is on but base_url is empty: it has no effect, Trac builds redirects from the host Apache was asked for (trac/web/api.py)', [
        `${set('base_url', 'https://HOST/PATH')} (the URL people open), ${exact}`,
        `or ${set('use_base_url_for_redirect', 'false')}`,
      ]);
    }
  }
  return findings;
}
