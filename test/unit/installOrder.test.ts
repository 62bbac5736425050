import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apacheNameOrder, conflictsIn, mainServerMounts, orderingRenames, snippetFileName, type IncludedConf } from '../../src/apply/installOrder.js';
import { apacheArg } from '../../src/escape/apache.js';
import { covers } from '../../src/plan/mounts.js';

const conf = (file: string, mounts: string[], extra: Partial<IncludedConf> = {}): IncludedConf => ({ file, mounts, fresh: false, ours: false, ...extra });

describe('the names apply installs snippets under', () => {
  it('puts deeper mount points first in the order Apache includes files', () => {
    expect(snippetFileName('root', '/')).toBe('99-root.conf');
    expect(snippetFileName('git', '/git')).toBe('98-git.conf');
    expect(snippetFileName('git', '/git/')).toBe('98-git.conf');
    expect(snippetFileName('x', '/a/b')).toBe('97-x.conf');
    expect(['99-a.conf', '98-zzz.conf', '97-m.conf'].sort(apacheNameOrder)).toEqual(['97-m.conf', '98-zzz.conf', '99-a.conf']);
  });

  it('leaves no mount point hidden, whatever the names and mount points (property)', () => {
    const segment = fc.stringMatching(/^[a-z]{1,3}$/);
    const prefix = fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join('/')}`);
    const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, prefix), { selector: ([n]) => n, maxLength: 6 }), (sites) => {
        // distinct mount points: two sites at one URL are refused, not ordered
        const distinct = sites.filter(([, p], i) => sites.findIndex(([, q]) => q === p) === i);
        const confs = distinct.map(([n, p]) => conf(snippetFileName(n, p), [p], { fresh: true, ours: true }));
        expect(conflictsIn(confs)).toEqual([]);
      }),
    );
  });
});

describe('conflicts in the directory Apache includes', () => {
  it('finds / read before /git, in file name order (byte order, as Apache sorts)', () => {
    expect(conflictsIn([conf('b.conf', ['/git']), conf('a.conf', ['/'])])).toEqual([{ hidden: { file: 'b.conf', urlPrefix: '/git' }, by: { file: 'a.conf', urlPrefix: '/' } }]);
    expect(conflictsIn([conf('a.conf', ['/git']), conf('b.conf', ['/'])])).toEqual([]);
    // "Z" (0x5a) sorts before "a" (0x61) in Apache's strcmp, unlike a locale sort
    expect(conflictsIn([conf('a.conf', ['/git']), conf('Z.conf', ['/'])])).toHaveLength(1);
    // /gitx is not under /git
    expect(conflictsIn([conf('a.conf', ['/git']), conf('b.conf', ['/gitx'])])).toEqual([]);
  });

  it('finds two mount points in one file in the wrong order, which no name can fix', () => {
    expect(conflictsIn([conf('trac.conf', ['/', '/git'])])).toEqual([{ hidden: { file: 'trac.conf', urlPrefix: '/git' }, by: { file: 'trac.conf', urlPrefix: '/' } }]);
    expect(orderingRenames([conf('trac.conf', ['/', '/git'], { ours: true })]).size).toBe(0);
  });

  it('renames an earlier install of ours that carries an old name, never someone else’s', () => {
    const legacyRoot = conf('0root.conf', ['/'], { ours: true });
    const git = conf('98-git.conf', ['/git'], { fresh: true, ours: true });
    expect([...orderingRenames([legacyRoot, git])]).toEqual([['0root.conf', '99-0root.conf']]);
    expect(orderingRenames([{ ...legacyRoot, ours: false }, git]).size).toBe(0);
    // an old name that already sorts right is left alone
    expect(orderingRenames([conf('root.conf', ['/'], { ours: true }), git]).size).toBe(0);
  });
});

describe('reading the main-server mount points of an installed file', () => {
  it('reads quoted and bare WSGIScriptAlias, skips those inside <VirtualHost>, marks AliasMatch', () => {
    const text = [
      '# WSGIScriptAlias /commented /x.wsgi',
      `WSGIScriptAlias ${apacheArg('/my "git"')} ${apacheArg('/srv/x.wsgi')} process-group=g`,
      '  wsgiscriptalias /bare /srv/y.wsgi',
      '<VirtualHost *:80>',
      '  WSGIScriptAlias / /srv/z.wsgi',
      '</VirtualHost>',
      'WSGIScriptAliasMatch ^/r(.*) /srv/r.wsgi',
    ].join('\n');
    expect(mainServerMounts(text).map((m) => m.urlPrefix)).toEqual(['/my "git"', '/bare', null]);
  });

  it('reads back every mount point apacheArg writes (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).map((s) => `/${s}`), (prefix) => {
        let line: string;
        try {
          line = `WSGIScriptAlias ${apacheArg(prefix)} "/srv/t.wsgi"`;
        } catch {
          return; // refused by the escaper
        }
        expect(mainServerMounts(line).map((m) => m.urlPrefix)).toEqual([prefix]);
      }),
    );
  });

  it('covers() is the mount relation the order relies on', () => {
    expect(covers('/', '/git')).toBe(true);
    expect(covers('/git', '/git/sub')).toBe(true);
    expect(covers('/git', '/gitx')).toBe(false);
  });
});
