import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApacheValueError } from '../../src/escape/apache.js';
import { apacheRegexLiteral, apacheSubstitution } from '../../src/escape/apacheRegex.js';
import { staticAlias } from '../../src/plan/planDeployment.js';

/** ap_pregsub as Apache 2.4 applies an AliasMatch target: $N is a group, \\x is x. */
function pregsub(target: string, groups: string[]): string {
  return target.replace(/\\(.)|\$(\d)/g, (_m, escaped: string | undefined, n: string | undefined) => (escaped !== undefined ? escaped : (groups[Number(n)] ?? '')));
}

const noBackslash = fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\\'));

describe('apacheRegexLiteral', () => {
  it('matches exactly the text it was made from', () => {
    fc.assert(
      fc.property(noBackslash, noBackslash, (text, other) => {
        const re = new RegExp(`^${apacheRegexLiteral(text)}$`, 'u');
        expect(re.test(text)).toBe(true);
        if (other !== text) expect(re.test(other)).toBe(false);
      }),
    );
  });

  it('escapes the metacharacters of a URL prefix', () => {
    expect(apacheRegexLiteral('/a.b+(c)')).toBe('/a\\.b\\+\\(c\\)');
  });

  it('refuses a backslash', () => {
    expect(() => apacheRegexLiteral('a\\b')).toThrow(ApacheValueError);
  });
});

describe('apacheSubstitution', () => {
  it('stands for itself after back-references are substituted', () => {
    fc.assert(
      fc.property(noBackslash, (dir) => {
        expect(pregsub(apacheSubstitution(dir) + '$1', ['whole', '/x.css'])).toBe(dir + '/x.css');
      }),
    );
  });

  it('escapes $ and &, and refuses a backslash', () => {
    expect(apacheSubstitution('/srv/a&b$1')).toBe('/srv/a\\&b\\$1');
    expect(() => apacheSubstitution('/srv/a\\b')).toThrow(ApacheValueError);
  });
});

describe('staticAlias', () => {
  it('is a plain Alias for one environment', () => {
    expect(staticAlias('/trac', 'environment', 'common', '/d/htdocs/common')).toEqual({ key: 'common', url: '/trac/chrome/common', dir: '/d/htdocs/common', urlRegex: null });
    expect(staticAlias('/', 'environment', 'site', '/d/site').url).toBe('/chrome/site');
  });

  it('is an AliasMatch with the environment name as a wildcard for a parent directory', () => {
    const alias = staticAlias('/my.trac', 'parent', 'tags+x', '/d/htdocs/tags+x');
    expect(alias.urlRegex).toBe('^/my\\.trac/[^/]+/chrome/tags\\+x(/.*)?$');
    const re = new RegExp(alias.urlRegex ?? '');
    expect(re.exec('/my.trac/proj/chrome/tags+x/css/a.css')?.[1]).toBe('/css/a.css');
    expect(re.test('/myXtrac/proj/chrome/tags+x/a.css')).toBe(false);
    expect(re.test('/my.trac/proj/chrome/tags+xy/a.css')).toBe(false);
    expect(staticAlias('/', 'parent', 'common', '/d').urlRegex).toBe('^/[^/]+/chrome/common(/.*)?$');
  });

  it('refuses a parent-directory target with a backslash, naming --htdocs', () => {
    expect(() => staticAlias('/trac', 'parent', 'common', '/d\\x/common')).toThrow(/--htdocs/);
  });
});
