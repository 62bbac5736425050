import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPlanFile as renderManifest } from '../../src/write/planFile.js';
import { swapScript, writeHelloConfig } from '../../src/smoke/helloConfig.js';
import { joinUrl, judge, pagesFor, titleOf } from '../../src/smoke/pages.js';
import { parsePythonHome, parseScriptAlias } from '../../src/apache/readConf.js';
import { findTargets } from '../../src/smoke/targets.js';
import { samplePlan } from '../helpers/samplePlan.js';
import { tempDir } from '../helpers/tempDir.js';

describe('finding the configurations in DIR', () => {
  it('reads WSGIScriptAlias and python-home, quoted or not', () => {
    expect(parseScriptAlias('# x\n  WSGIScriptAlias "/my trac" "/srv/a \\"b\\"/t.wsgi" process-group=x\n')).toEqual({ urlPrefix: '/my trac', script: '/srv/a "b"/t.wsgi' });
    expect(parseScriptAlias('WSGIScriptAlias / /srv/t.wsgi')).toEqual({ urlPrefix: '/', script: '/srv/t.wsgi' });
    expect(parseScriptAlias('Alias /x /y')).toBeNull();
    expect(parsePythonHome('WSGIDaemonProcess p threads=5 python-home="/srv/my venv" lang=C')).toBe('/srv/my venv');
    expect(parsePythonHome('WSGIDaemonProcess p python-home=/srv/venv')).toBe('/srv/venv');
  });

  it('takes each .conf once (from its manifest, else bare) in the order apply installs them, and --name picks one', async () => {
    const dir = await tempDir();
    const plan = samplePlan({ files: { outDir: dir, wsgi: path.join(dir, 'project.wsgi'), apache: path.join(dir, 'project.conf') } });
    const manifest = renderManifest(plan);
    expect(manifest.path).toBe(path.join(dir, 'project.plan.json'));
    await fs.writeFile(manifest.path, manifest.content);
    await fs.writeFile(plan.files.apache, 'WSGIScriptAlias "/trac" "/elsewhere.wsgi"\n');
    await fs.writeFile(plan.files.wsgi, '');
    await fs.writeFile(path.join(dir, 'hand.conf'), 'WSGIScriptAlias /hand/ /srv/hand.wsgi\n');
    await fs.writeFile(path.join(dir, 'other.conf'), '# no alias here\n');
    await fs.writeFile(path.join(dir, 'a-root.conf'), 'WSGIScriptAlias / /srv/root.wsgi\n');
    const targets = await findTargets(dir);
    // 98-hand.conf, 98-project.conf, 99-a-root.conf: the mount at / last, whatever its name.
    expect(targets.map((t) => [t.name, t.urlPrefix, t.script, t.plan !== null])).toEqual([
      ['hand', '/hand', '/srv/hand.wsgi', false],
      ['project', '/trac', plan.files.wsgi, true],
      ['a-root', '/', '/srv/root.wsgi', false],
    ]);
    expect((await findTargets(dir, 'hand')).map((t) => t.name)).toEqual(['hand']);
    await expect(findTargets(dir, 'nope')).rejects.toThrow('--name "nope": ' + dir + ' holds hand, project, a-root');
  });

  it('says what to do when DIR is missing, empty, or its manifest is broken', async () => {
    const dir = await tempDir();
    await expect(findTargets(path.join(dir, 'missing'))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('no such directory') });
    await expect(findTargets(dir)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('holds no configuration from trac-deploy generate') });
    await fs.writeFile(path.join(dir, 'x.plan.json'), '{"kind": "something-else"}');
    await expect(findTargets(dir)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('is not a trac-deploy manifest') });
  });
});

describe('Hello World configuration', () => {
  it('is the same configuration with the script moved', async () => {
    const dir = await tempDir();
    const plan = samplePlan();
    const hello = path.join(dir, 'hello');
    const conf = await writeHelloConfig({ name: 'project', conf: plan.files.apache, urlPrefix: '/trac', script: plan.files.wsgi, plan, pythonHome: '/srv/venv' }, hello);
    const text = await fs.readFile(conf, 'utf8');
    expect(text).toContain(`WSGIScriptAlias "/trac" "${hello}/project.wsgi" process-group=project application-group=%{GLOBAL}`);
    expect(text).toContain('python-home="/srv/venv"');
    expect(text).toContain(`<Directory "${hello}">`);
    expect(text).not.toContain('/srv/deploy');
    const script = await fs.readFile(path.join(hello, 'project.wsgi'), 'utf8');
    expect(script).toContain("('Content-Length', str(len(body)))");
    expect(script).toContain(".encode('utf-8')");
  });

  it('swaps the script in a hand-made configuration, quoted or not', () => {
    expect(swapScript('WSGIScriptAlias /t /srv/d/t.wsgi\n<Directory /srv/d>\n', '/srv/d/t.wsgi', '/tmp/h/t.wsgi')).toBe('WSGIScriptAlias /t "/tmp/h/t.wsgi"\n<Directory "/tmp/h">\n');
    expect(() => swapScript('nothing', '/srv/d/t.wsgi', '/tmp/h/t.wsgi')).toThrow('cannot find the script');
  });
});

describe('pages', () => {
  it('joins the mount point', () => {
    expect(joinUrl('/')).toBe('/');
    expect(joinUrl('/', 'alpha')).toBe('/alpha');
    expect(joinUrl('/trac', 'a b')).toBe('/trac/a%20b');
  });
  it('asks for the index and every page each environment of a parent directory uses', () => {
    const plan = samplePlan({
      source: {
        kind: 'parent',
        path: '/srv/trac',
        environments: [
          { name: 'a', path: '/srv/trac/a', projectName: 'A', uses: { repositories: ['r1', ''], attachment: { realm: 'wiki', id: 'Wiki Start', filename: 'f 1.txt', size: 6 }, xsendfile: false } },
          { name: 'b', path: '/srv/trac/b', projectName: null },
        ],
      },
    });
    const pages = pagesFor({ name: 'p', conf: '', urlPrefix: '/trac', script: '', plan, pythonHome: null }, false);
    expect(pages.map((p) => [p.path, p.expect.kind])).toEqual([
      ['/trac', 'index'],
      ['/trac/a', 'trac'],
      ['/trac/a/wiki/WikiStart', 'trac'],
      ['/trac/a/timeline', 'trac'],
      ['/trac/a/browser/r1', 'trac'],
      ['/trac/a/browser', 'trac'],
      ['/trac/a/raw-attachment/wiki/Wiki%20Start/f%201.txt', 'bytes'],
      ['/trac/b', 'trac'],
      ['/trac/b/wiki/WikiStart', 'trac'],
      ['/trac/b/timeline', 'trac'],
      // No preflight when b's site was generated: what it uses is unknown, so listed as skipped.
      ['/trac/b/browser', 'skipped'],
      ['/trac/b/raw-attachment', 'skipped'],
    ]);
    expect(pagesFor({ name: 'p', conf: '', urlPrefix: '/trac', script: '', plan, pythonHome: null }, true).map((p) => p.path)).toEqual(['/trac']);
  });
  it('judges a Trac page by its stylesheet and title, a download by its bytes, a login by its challenge', () => {
    const answer = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'text/html' }) => ({
      status,
      body,
      length: Buffer.byteLength(body),
      headers: new Headers(headers),
    });
    const trac = '<html><head><title>\n  Wiki – A &lt;&amp;&gt;\n</title><link href="/trac/chrome/common/css/trac.css"></head></html>';
    expect(titleOf(trac)).toBe('Wiki – A <&>');
    // Genshi writes quotes as numeric references; a project called "Q" must still match its title.
    expect(titleOf('<title>Wiki &#8211; &#34;Q&#x22; &amp;&nbsp;R&#39;s</title>')).toBe('Wiki – "Q" &\u00a0R\'s');
    const check = { target: 'p', path: '/trac', what: 'front page', expect: { kind: 'trac', project: 'A <&>' } } as const;
    expect(judge(check, answer(200, trac, { 'content-type': 'text/html;charset=utf-8' })).ok).toBe(true);
    expect(judge({ ...check, expect: { kind: 'trac', project: 'B' } }, answer(200, trac)).problem).toContain('not project "B"');
    expect(judge(check, answer(200, '<title>It works</title>')).problem).toContain('not a Trac page');
    expect(judge(check, answer(500, '<title>500 Internal Server Error</title>')).problem).toBe('HTTP 500 (500 Internal Server Error)');
    expect(judge({ ...check, path: '/', expect: { kind: 'index', environments: ['a', 'b'] } }, answer(200, '<a href="/a">')).problem).toContain('does not list b');
    expect(judge({ ...check, expect: { kind: 'hello' } }, answer(200, 'Hello World\n', { 'content-type': 'text/plain' })).ok).toBe(true);
    const download = { ...check, expect: { kind: 'bytes', size: 6 } } as const;
    expect(judge(download, answer(200, 'hello\n', {})).ok).toBe(true);
    expect(judge(download, answer(200, '', { 'x-sendfile': '/srv/a' })).problem).toBe('200 but 0 of 6 bytes (Trac sent an X-Sendfile header that nothing handled)');
    const login = { ...check, expect: { kind: 'challenge', scheme: 'Basic' } } as const;
    expect(judge(login, answer(401, '', { 'www-authenticate': 'Basic realm="Trac"' })).ok).toBe(true);
    expect(judge(login, answer(200, trac)).problem).toContain('not the 401 login challenge');
    const stat = { ...check, expect: { kind: 'static', maxAge: 86400 } } as const;
    expect(judge(stat, answer(200, 'css', { 'cache-control': 'public, max-age=86400' })).ok).toBe(true);
    expect(judge(stat, answer(200, 'css', {})).problem).toContain('served by Trac');
  });
});
