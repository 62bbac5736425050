import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPage, MAX_BODY_BYTES } from '../../src/smoke/fetchPage.js';
import { getFromSite } from '../../src/smoke/siteEndpoints.js';

/**
 * Smoke's two ways of asking a server read at most MAX_BODY_BYTES of an answer (a server that
 * keeps sending is cut off and the check fails with that reason) and keep what came of a body
 * cut short (judged as a broken download, not as no answer). A loopback server of the test's own.
 */
let server: http.Server;
let port: number;
const CHUNK = Buffer.alloc(1024 * 1024, 0x61);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/endless') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      let sent = 0;
      const more = () => {
        while (sent <= MAX_BODY_BYTES + CHUNK.length) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => (sent = Infinity));
      more();
    } else if (req.url === '/cut') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '100' });
      res.write('forty bytes of a hundred, then closed..');
      setTimeout(() => res.destroy(), 50);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('small');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('fetchPage', () => {
  it('stops reading past the limit and says so', async () => {
    const page = await fetchPage(`http://127.0.0.1:${port}/endless`, { redirect: 'manual', timeoutMs: 30_000 });
    expect(page.status).toBe(200);
    expect(page.error).toMatch(/exceeded 32 MiB/);
    expect(page.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
  });

  it('keeps the bytes of a body cut short', async () => {
    const page = await fetchPage(`http://127.0.0.1:${port}/cut`, { redirect: 'manual', timeoutMs: 30_000 });
    expect(page.error).toBeNull();
    expect(page.status).toBe(200);
    expect(page.body).toBe('forty bytes of a hundred, then closed..');
    expect(page.length).toBe(39);
  });

  it('reads a small answer whole', async () => {
    const page = await fetchPage(`http://127.0.0.1:${port}/`, { redirect: 'manual', timeoutMs: 30_000 });
    expect([page.status, page.body, page.error]).toEqual([200, 'small', null]);
  });
});

describe('getFromSite', () => {
  const site = () => ({ scheme: 'http' as const, host: 'site.test', port });

  it('stops reading past the limit and fails with the reason', async () => {
    await expect(getFromSite(site(), '/endless', 30_000)).rejects.toThrow(/exceeded 32 MiB/);
  });

  it('keeps the bytes of a body cut short', async () => {
    const answer = await getFromSite(site(), '/cut', 30_000);
    expect([answer.status, answer.length]).toEqual([200, 39]);
  });
});
