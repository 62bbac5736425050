import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountAnswered, mountCheckOf, mountsInText, probe, probesFor } from '../../src/apply/serverCheck.js';

const site = { serverName: 'trac.example.org', aliases: [], httpPort: 8080, httpsPort: 8443, tls: null, redirectTo: null, errorLog: '/e', accessLog: '/a', installAs: 'site' as const };

describe('what apply asks after a reload', () => {
  it('a snippet is asked on every address, as the address; a site only on its ports, as its name', () => {
    const addresses = ['127.0.0.1:80', '127.0.0.1:8080', '[::1]:8080'];
    expect(probesFor(mountCheckOf({ urlPrefix: '/trac', site: null }), addresses).probes.map((p) => [p.address, p.host])).toEqual([
      ['127.0.0.1:80', null],
      ['127.0.0.1:8080', null],
      ['[::1]:8080', null],
    ]);
    const { probes, missing } = probesFor(mountCheckOf({ urlPrefix: '/trac', site }), addresses);
    expect(missing).toEqual([]);
    expect(probes).toEqual([
      { scheme: 'http', address: '127.0.0.1:8080', path: '/trac/', host: 'trac.example.org', redirectTo: null },
      { scheme: 'http', address: '[::1]:8080', path: '/trac/', host: 'trac.example.org', redirectTo: null },
    ]);
  });

  it('a TLS site: https on its https port, a redirect to https expected on its http port; ports Apache lacks are named', () => {
    const tlsSite = { ...site, tls: { cert: '/c', key: '/k', chain: null, hsts: false }, redirectTo: 'https://trac.example.org:8443' };
    const { probes, missing } = probesFor(mountCheckOf({ urlPrefix: '/', site: tlsSite }), ['127.0.0.1:8443']);
    expect(probes).toEqual([{ scheme: 'https', address: '127.0.0.1:8443', path: '/', host: 'trac.example.org', redirectTo: null }]);
    expect(missing).toEqual([8080]);
  });

  it('mount points of enabled files carry their virtual host: name, ports, https where SSLEngine is on', () => {
    const text = [
      'Alias /static /srv/static',
      '<VirtualHost *:80 [::]:80>',
      '    ServerName www.example.org',
      '    Alias /docs /srv/docs',
      '</VirtualHost>',
      '<VirtualHost 127.0.0.1:443>',
      '    ServerName "secure.example.org:443"',
      '    SSLEngine on',
      '    WSGIScriptAlias "/trac" /srv/trac.wsgi',
      '</VirtualHost>',
    ].join('\n');
    expect(mountsInText(text)).toEqual([
      { path: '/static/', host: null, ports: null },
      { path: '/docs/', host: 'www.example.org', ports: [{ port: 80, scheme: 'http', redirectTo: null }] },
      { path: '/trac/', host: 'secure.example.org', ports: [{ port: 443, scheme: 'https', redirectTo: null }] },
    ]);
  });
});

describe('probe', () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    // Answers like name-based virtual hosts: the site for its name, 404 for anything else.
    server = http.createServer((req, res) => {
      if (req.url === '/go/') {
        res.writeHead(301, { location: 'https://trac.example.org:8443/go/' }).end();
        return;
      }
      res.writeHead(req.headers.host === `trac.example.org:${port}` ? 200 : 404).end(String(req.headers.host));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the site's name as Host (with the port), the address when there is no site", async () => {
    const named = await probe({ scheme: 'http', address: `127.0.0.1:${port}`, path: '/trac/', host: 'trac.example.org', redirectTo: null });
    expect(named.status).toBe(200);
    expect(named.url).toBe(`http://127.0.0.1:${port}/trac/ (Host: trac.example.org)`);
    const bare = await probe({ scheme: 'http', address: `127.0.0.1:${port}`, path: '/trac/', host: null, redirectTo: null });
    expect(bare.status).toBe(404);
    expect(mountAnswered(bare)).toBe(false);
  });

  it('a redirect counts only when it goes where the site says', async () => {
    const request = { scheme: 'http' as const, address: `127.0.0.1:${port}`, path: '/go/', host: 'trac.example.org' };
    expect(mountAnswered(await probe({ ...request, redirectTo: 'https://trac.example.org:8443' }))).toBe(true);
    expect(mountAnswered(await probe({ ...request, redirectTo: 'https://other.example.org' }))).toBe(false);
    // A 200 where a redirect to https was expected is not the site's http host either.
    expect(mountAnswered(await probe({ ...request, path: '/trac/', redirectTo: 'https://trac.example.org:8443' }))).toBe(false);
  });

  it('no server: no status, the reason', async () => {
    const answer = await probe({ scheme: 'http', address: '127.0.0.1:1', path: '/', host: null, redirectTo: null });
    expect(answer.status).toBeNull();
    expect(answer.error).toBe('ECONNREFUSED');
  });
});
