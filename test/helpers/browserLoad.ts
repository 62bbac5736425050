import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadCounts {
  /** Requests answered (any status). */
  answered: number;
  /** Answers with a status outside 200-299. */
  non2xx: number;
  /** Requests that failed on a reused keep-alive connection and were retried once on a new one. */
  retried: number;
  /** Requests that failed for good: after the retry, or on a fresh connection. */
  failed: number;
  statuses: Record<number, number>;
  errors: string[];
  /** Latency of each answered request (ms) with the time it finished (ms since the start). */
  samples: { at: number; ms: number }[];
}

export interface LoadOptions {
  port: number;
  /** The Host header (a name-based virtual host); default 127.0.0.1:port. */
  host?: string;
  paths: string[];
  connections: number;
  /** Upper bounds: the load stops at whichever comes first (or when stop() is called). */
  maxRequestsPerConnection: number;
  maxMs: number;
}

/**
 * Continuous load on 127.0.0.1 as a browser makes it: each of `connections` clients keeps one
 * keep-alive connection and sends its next request when the last one is answered. A request
 * that fails on a reused connection (the server closed it while idle) is sent once more on a
 * new connection, as browsers do; what fails then is counted as failed.
 */
export function startLoad(options: LoadOptions): { stop: () => void; done: Promise<LoadCounts>; counts: LoadCounts; elapsed: () => number } {
  const counts: LoadCounts = { answered: 0, non2xx: 0, retried: 0, failed: 0, statuses: {}, errors: [], samples: [] };
  const t0 = performance.now();
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  const deadline = setTimeout(stop, options.maxMs);
  const client = async (index: number) => {
    let agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let n = 0; n < options.maxRequestsPerConnection && !stopped; n++) {
      const path = options.paths[(index + n) % options.paths.length] ?? '/';
      const start = performance.now();
      let result = await once(agent, options, path);
      if ('error' in result && result.reused) {
        counts.retried++;
        agent.destroy();
        agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        result = await once(agent, options, path);
      }
      if ('error' in result) {
        counts.failed++;
        counts.errors.push(`${path}: ${result.error}`);
        agent.destroy();
        agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        continue;
      }
      counts.answered++;
      counts.statuses[result.status] = (counts.statuses[result.status] ?? 0) + 1;
      if (result.status < 200 || result.status > 299) counts.non2xx++;
      const end = performance.now();
      counts.samples.push({ at: end - t0, ms: end - start });
    }
    agent.destroy();
  };
  const done = Promise.all(Array.from({ length: options.connections }, (_, i) => client(i))).then(() => {
    clearTimeout(deadline);
    return counts;
  });
  return { stop, done, counts, elapsed: () => performance.now() - t0 };
}

type Once = { status: number } | { error: string; reused: boolean };

function once(agent: http.Agent, options: Pick<LoadOptions, 'port' | 'host'>, path: string): Promise<Once> {
  return new Promise((resolve) => {
    const headers = options.host ? { host: options.host } : {};
    const req = http.request({ host: '127.0.0.1', port: options.port, path, agent, headers, timeout: 60000 }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('error', (error) => resolve({ error: error.message, reused: Boolean(req.reusedSocket) }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', (error) => resolve({ error: error.message, reused: Boolean(req.reusedSocket) }));
    req.end();
  });
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** One GET on a fresh connection, with an optional Host header; the status (the body is read and dropped). */
export function get(port: number, path: string, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: host ? { host } : {}, agent: false, timeout: 60000 }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end();
  });
}
