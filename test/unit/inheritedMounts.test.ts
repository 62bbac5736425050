import { describe, expect, it } from 'vitest';
import { inheritedMountFindings, inheritedMounts } from '../../src/plan/mounts.js';

const snippet = (name: string, urlPrefix: string) => ({ name, urlPrefix, site: null });
const site = (name: string, urlPrefix: string, serverName: string, tls = false) => ({ name, urlPrefix, site: { serverName, tls: tls ? {} : null } });

describe('mount points a virtual host inherits from the main server', () => {
  it('are the snippets none of the host own mount points covers', () => {
    expect(inheritedMounts([{ name: 's', urlPrefix: '/trac' }], [snippet('root', '/'), snippet('git', '/git'), snippet('sub', '/trac/sub')]).map((m) => m.name)).toEqual(['root', 'git']);
    // A site at / covers every URL of its host: nothing reaches the inherited ones.
    expect(inheritedMounts([{ name: 's', urlPrefix: '/' }], [snippet('root', '/'), snippet('git', '/git')])).toEqual([]);
    // /trac does not cover /tracker: prefixes are whole path segments.
    expect(inheritedMounts([{ name: 's', urlPrefix: '/trac' }], [snippet('t', '/tracker')]).map((m) => m.name)).toEqual(['t']);
  });

  it('are reported per host, with its scheme, and only those about a given name', () => {
    const plans = [snippet('internal', '/'), site('public', '/trac', 'trac.example.org', true), site('other', '/', 'other.example.org')];
    const all = inheritedMountFindings(plans);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ code: 'mount-inherited', severity: 'warning' });
    expect(all[0]!.message).toContain('/ (internal, a snippet of the main server) also answers at https://trac.example.org/');
    expect(all[0]!.message).toContain("trac.example.org's own mount points (/trac)");
    expect(inheritedMountFindings(plans, 'internal')).toHaveLength(1);
    expect(inheritedMountFindings(plans, 'public')).toHaveLength(1);
    expect(inheritedMountFindings(plans, 'other')).toEqual([]);
    expect(inheritedMountFindings([snippet('a', '/a'), snippet('b', '/b')])).toEqual([]);
  });
});
