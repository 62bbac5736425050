import { usageError } from '../errors.js';
import type { GenerateOptions } from './options.js';
import type { DaemonTimeout } from './types.js';

type TimeoutKey = 'requestTimeout' | 'queueTimeout' | 'socketTimeout' | 'connectTimeout' | 'gracefulTimeout' | 'shutdownTimeout' | 'maximumRequests';

/**
 * Each WSGIDaemonProcess robustness option with the reason for its default, written as a
 * comment above the directive. Defaults: src/plan/options.ts DEFAULT_TIMEOUTS (mod_wsgi-express's).
 */
const SPECS: { key: TimeoutKey; option: string; flag: string; min: number; reason: (v: number) => string }[] = [
  {
    key: 'requestTimeout',
    option: 'request-timeout',
    flag: '--request-timeout',
    min: 0,
    reason: (v) =>
      v === 0
        ? 'off: a hung request holds its thread until the process is restarted by hand'
        : `a request still running after ${v} s (averaged over the process's threads) restarts its daemon process, so one hung request (a stuck repository or database) cannot hold a thread for ever; longer than any Trac page should take (mod_wsgi-express: 60)`,
  },
  {
    key: 'queueTimeout',
    option: 'queue-timeout',
    flag: '--queue-timeout',
    min: 0,
    reason: (v) =>
      v === 0
        ? 'off: when every daemon thread is busy, requests wait as long as socket-timeout'
        : `when every thread is busy a request waits at most ${v} s for one, then gets 504 at once instead of piling up behind hung requests (mod_wsgi-express: 45)`,
  },
  {
    key: 'socketTimeout',
    option: 'socket-timeout',
    flag: '--socket-timeout',
    min: 1,
    reason: (v) => `${v} s of silence between Apache and the daemon fails the request (Apache's own Timeout is 60; mod_wsgi-express: 60)`,
  },
  {
    key: 'connectTimeout',
    option: 'connect-timeout',
    flag: '--connect-timeout',
    min: 1,
    reason: (v) => `${v} s to connect to the daemon's socket, enough for a daemon that is starting (mod_wsgi's and mod_wsgi-express's default: 15)`,
  },
  {
    key: 'gracefulTimeout',
    option: 'graceful-timeout',
    flag: '--graceful-timeout',
    min: 0,
    reason: (v) => `a daemon restarting after maximum-requests or a graceful reload lets running requests finish for up to ${v} s (mod_wsgi-express: 15)`,
  },
  {
    key: 'shutdownTimeout',
    option: 'shutdown-timeout',
    flag: '--shutdown-timeout',
    min: 1,
    reason: (v) => `a stopping daemon gets ${v} s to exit cleanly before it is killed (mod_wsgi's and mod_wsgi-express's default: 5)`,
  },
  {
    key: 'maximumRequests',
    option: 'maximum-requests',
    flag: '--maximum-requests',
    min: 0,
    reason: (v) =>
      v === 0
        ? 'no restart after a number of requests: Trac does not leak, and each restart costs the next request a cold start; set it when a plugin leaks memory (mod_wsgi-express: 0)'
        : `each daemon process restarts after ${v} requests (gracefully, see graceful-timeout), bounding what a leaking plugin can take`,
  },
];

/** The timeouts as the plan keeps them; whole seconds, checked once here. */
export function decideTimeouts(options: Pick<GenerateOptions, TimeoutKey>): DaemonTimeout[] {
  return SPECS.map(({ key, option, flag, min, reason }) => {
    const value = options[key];
    if (!Number.isInteger(value) || value < min || value > 86400 * 7) {
      throw usageError(`${flag}${Number.isNaN(value) ? '' : ` ${value}`} must be a whole number from ${min} to 604800`);
    }
    return { option, value, reason: reason(value) };
  });
}
