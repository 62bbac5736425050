import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { decideTimeouts } from '../../src/plan/daemonTimeouts.js';
import { DEFAULT_TIMEOUTS } from '../../src/plan/options.js';
import { decideProxy } from '../../src/plan/proxyDecision.js';
import { decideSite, publicUrlOf } from '../../src/plan/siteDecision.js';
import { decideSizing } from '../../src/plan/sizingDecision.js';
import { publicUrlDecision, tracIniUrlFindings, tracSettingFindings, tracUrlSettings } from '../../src/plan/tracUrlSettings.js';
import { DEFAULT_GENERATE_OPTIONS } from '../../src/plan/options.js';
import type { SitePlan } from '../../src/plan/types.js';
import { environmentInfo } from '../helpers/environmentInfo.js';

const site = (over: Partial<SitePlan> = {}): SitePlan => ({
  serverName: 'trac.example.org',
  aliases: [],
  httpPort: 80,
  httpsPort: 443,
  tls: null,
  redirectTo: null,
  errorLog: '/var/log/apache2/x-error.log',
  accessLog: '/var/log/apache2/x-access.log',
  installAs: 'site',
  ...over,
});
const tls = { cert: '/c', key: '/k', chain: null, hsts: false };

describe('sizing from the machine', () => {
  it('one process per core, at least 2, at most 8; 5 threads; says why', () => {
    expect(decideSizing({}, 1, 1)).toMatchObject({ processes: 2, threads: 5 });
    expect(decideSizing({}, 1, 6)).toMatchObject({ processes: 6, threads: 5 });
    expect(decideSizing({}, 1, 64)).toMatchObject({ processes: 8 });
    expect(decideSizing({}, 1, 6).reason).toMatch(/6 cores/);
  });
  it('many environments in one parent: at most 4 processes (each holds them all)', () => {
    expect(decideSizing({}, 30, 16)).toMatchObject({ processes: 4 });
  });
  it('given values win and need no reason; bad ones are refused', () => {
    expect(decideSizing({ processes: 3, threads: 1 }, 1, 16)).toEqual({ processes: 3, threads: 1, reason: null });
    expect(() => decideSizing({ processes: 0 }, 1, 2)).toThrow(UserError);
  });
});

describe('daemon timeouts', () => {
  it('mod_wsgi-express values by default, each with a reason', () => {
    const timeouts = decideTimeouts(DEFAULT_TIMEOUTS);
    expect(Object.fromEntries(timeouts.map((t) => [t.option, t.value]))).toEqual({
      'request-timeout': 60, 'queue-timeout': 45, 'socket-timeout': 60, 'connect-timeout': 15, 'graceful-timeout': 15, 'shutdown-timeout': 5, 'maximum-requests': 0,
    });
    for (const t of timeouts) expect(t.reason.length).toBeGreaterThan(20);
  });
  it('refuses fractions, negatives and a zero socket-timeout, naming the flag', () => {
    expect(() => decideTimeouts({ ...DEFAULT_TIMEOUTS, requestTimeout: 1.5 })).toThrow(/--request-timeout 1.5/);
    expect(() => decideTimeouts({ ...DEFAULT_TIMEOUTS, queueTimeout: -1 })).toThrow(/--queue-timeout/);
    expect(() => decideTimeouts({ ...DEFAULT_TIMEOUTS, socketTimeout: 0 })).toThrow(/--socket-timeout/);
  });
});

describe('site flags', () => {
  const base = { serverAlias: [], hsts: false, httpPort: 80, httpsPort: 443 };
  it('site-only flags without --server-name are refused, not ignored', async () => {
    await expect(decideSite({ ...base, tlsCert: '/c', tlsKey: '/k' }, 'x')).rejects.toThrow(/need.*--server-name/);
    await expect(decideSite({ ...base, hsts: true }, 'x')).rejects.toThrow(/--server-name/);
  });
  it('bad names, lone cert, HSTS without TLS, bad ports', async () => {
    await expect(decideSite({ ...base, serverName: 'bad name' }, 'x')).rejects.toThrow(/not a host name/);
    await expect(decideSite({ ...base, serverName: 'a.example', tlsCert: '/c' }, 'x')).rejects.toThrow(/go together/);
    await expect(decideSite({ ...base, serverName: 'a.example', hsts: true }, 'x')).rejects.toThrow(/--hsts needs/);
    await expect(decideSite({ ...base, serverName: 'a.example', httpPort: 70000 }, 'x')).rejects.toThrow(/--http-port 70000/);
  });
});

describe('the public URL', () => {
  it('https with TLS (port when not 443), https behind a proxy, else http', () => {
    expect(publicUrlOf(site({ tls }), false, '/trac')).toBe('https://trac.example.org/trac');
    expect(publicUrlOf(site({ tls, httpsPort: 8443 }), false, '/')).toBe('https://trac.example.org:8443');
    expect(publicUrlOf(site(), true, '/trac')).toBe('https://trac.example.org/trac');
    expect(publicUrlOf(site({ httpPort: 8080 }), false, '/trac')).toBe('http://trac.example.org:8080/trac');
    expect(publicUrlOf(null, true, '/trac')).toBeNull();
  });
});

describe('--behind-proxy', () => {
  it('addresses and CIDR ranges, IPv4 and IPv6; host names refused', () => {
    expect(decideProxy(['10.0.0.5', '10.0.0.0/8', 'fd00::/64', '10.0.0.5'])?.trusted).toEqual(['10.0.0.5', '10.0.0.0/8', 'fd00::/64']);
    expect(decideProxy([])).toBeNull();
    for (const bad of ['proxy.example', '10.0.0.0/33', '10.0.0.0/8/1', 'fd00::/129']) expect(() => decideProxy([bad])).toThrow(/--behind-proxy/);
  });
});

describe('trac.ini alignment', () => {
  const inspection = (urlSettings = { baseUrl: null as string | null, useBaseUrlForRedirect: null as boolean | null, secureCookies: false as boolean | null }) => ({
    kind: 'environment' as const,
    path: "/srv/it's",
    environments: [{ ...environmentInfo({ name: 'p', path: "/srv/it's" }), urlSettings }],
    skipped: [],
    databaseServers: [],
    problems: [],
  });
  it('https site: base_url and secure_cookies, with shell-quoted trac-admin commands', () => {
    const settings = tracUrlSettings(inspection(), { publicUrl: 'https://t.example/trac', proxy: null });
    expect(settings.map((s) => [s.option, s.wanted])).toEqual([['base_url', 'https://t.example/trac'], ['secure_cookies', 'true']]);
    const findings = tracSettingFindings(settings, false);
    expect(findings[0]?.advice?.[0]).toBe(`trac-admin '/srv/it'\\''s' config set trac base_url https://t.example/trac`);
    expect(findings.every((f) => f.severity === 'warning')).toBe(true);
  });
  it('behind a proxy also use_base_url_for_redirect; nothing when all match; secure cookies refused over http', () => {
    expect(tracUrlSettings(inspection(), { publicUrl: 'https://t.example/trac', proxy: { trusted: ['10.0.0.1'], headers: [] } }).map((s) => s.option)).toContain('use_base_url_for_redirect');
    expect(tracUrlSettings(inspection({ baseUrl: 'https://t.example/trac/', useBaseUrlForRedirect: null, secureCookies: true }), { publicUrl: 'https://t.example/trac', proxy: null })).toEqual([]);
    expect(tracUrlSettings(inspection({ baseUrl: 'http://t.example/trac', useBaseUrlForRedirect: null, secureCookies: true }), { publicUrl: 'http://t.example/trac', proxy: null }).map((s) => [s.option, s.wanted])).toEqual([['secure_cookies', 'false']]);
    expect(tracUrlSettings(inspection(), { publicUrl: null, proxy: null })).toEqual([]);
  });
  it('without a public URL: only what trac.ini contradicts itself in, each with its trac-admin commands', () => {
    const codes = (u: Parameters<typeof inspection>[0]) => tracIniUrlFindings(inspection(u)).map((f) => [f.message.slice(0, 60), f.advice]);
    expect(tracIniUrlFindings(inspection({ baseUrl: null, useBaseUrlForRedirect: null, secureCookies: null }))).toEqual([]);
    expect(tracIniUrlFindings(inspection({ baseUrl: 'https://t.example/trac', useBaseUrlForRedirect: true, secureCookies: true }))).toEqual([]);
    expect(tracIniUrlFindings(inspection({ baseUrl: 'http://t.example/trac', useBaseUrlForRedirect: null, secureCookies: false }))).toEqual([]);
    const https = tracIniUrlFindings(inspection({ baseUrl: 'https://t.example/trac', useBaseUrlForRedirect: null, secureCookies: null }));
    expect(https.map((f) => f.code)).toEqual(['trac-ini-url-inconsistent']);
    expect(https[0]?.advice).toEqual([`trac-admin '/srv/it'\\''s' config set trac secure_cookies true`]);
    expect(https[0]?.path).toBe("/srv/it's/conf/trac.ini");
    const http = codes({ baseUrl: 'http://t.example/trac', useBaseUrlForRedirect: null, secureCookies: true });
    expect(http).toHaveLength(1);
    expect(http[0]?.[1]).toEqual([
      `trac-admin '/srv/it'\\''s' config set trac base_url https://t.example/trac (the site is https)`,
      `or trac-admin '/srv/it'\\''s' config set trac secure_cookies false (the site is plain http)`,
    ]);
    const redirect = tracIniUrlFindings(inspection({ baseUrl: null, useBaseUrlForRedirect: true, secureCookies: null }));
    expect(redirect[0]?.message).toContain('use_base_url_for_redirect is on but base_url is empty: it has no effect');
    expect(redirect[0]?.advice?.[1]).toBe(`or trac-admin '/srv/it'\\''s' config set trac use_base_url_for_redirect false`);
    expect(tracIniUrlFindings(inspection({ baseUrl: 'trac.example.org', useBaseUrlForRedirect: null, secureCookies: null }))[0]?.message).toContain('is not an http:// or https:// URL');
  });
  it('inspect decides the public URL with the planner\'s own functions', async () => {
    const options = { ...DEFAULT_GENERATE_OPTIONS, serverName: 't.example', behindProxy: ['10.0.0.1'], urlPrefix: '/' };
    const decision = await publicUrlDecision(options, 'p');
    expect(decision.publicUrl).toBe(publicUrlOf((await decideSite(options, 'p')).site, true, '/'));
    expect(decision).toEqual({ publicUrl: 'https://t.example', proxy: decideProxy(['10.0.0.1']) });
    expect((await publicUrlDecision({ ...DEFAULT_GENERATE_OPTIONS, serverName: 't.example', httpPort: 8080 }, 'p')).publicUrl).toBe('http://t.example:8080/trac');
  });
});
