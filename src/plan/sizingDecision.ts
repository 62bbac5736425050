import os from 'node:os';
import { checkSizing, type Sizing } from '../inspect/sizing.js';

/** Threads per process when not given: Trac's requests mostly wait on the database and repositories. */
export const DEFAULT_THREADS = 5;
/** Above this many environments in one parent directory, fewer processes: each holds every environment. */
const MANY_ENVIRONMENTS = 10;

export interface SizingDecision extends Sizing {
  /** Why, for the plan's notes; null when both were given. */
  reason: string | null;
}

/**
 * Daemon processes and threads. Trac is CPU-bound in Python, where one process runs one thread
 * at a time (the GIL): processes give parallelism, about one per core, at least 2 so one
 * restarting process (request-timeout, maximum-requests) never leaves the site with none.
 * Every process loads every environment of a parent directory, so with many of them memory
 * rather than cores bounds the count. `cores` is the machine's (os.availableParallelism()).
 */
export function decideSizing(given: Partial<Sizing>, environments: number, cores: number = os.availableParallelism()): SizingDecision {
  const reasons: string[] = [];
  let processes = given.processes;
  if (processes === undefined) {
    const byCores = Math.max(2, Math.min(cores, 8));
    processes = environments > MANY_ENVIRONMENTS ? Math.min(byCores, 4) : byCores;
    reasons.push(
      `${processes} daemon processes: ${cores} core${cores === 1 ? '' : 's'} on this machine (Trac runs Python, one thread at a time per process; at least 2, so a restarting process never leaves the site without one${environments > MANY_ENVIRONMENTS ? `; at most 4 because each process loads all ${environments} environments` : ''})`,
    );
  }
  const threads = given.threads ?? DEFAULT_THREADS;
  if (given.threads === undefined) reasons.push(`${threads} threads each: requests mostly wait on the database and repositories`);
  const sizing = { processes, threads };
  checkSizing(sizing);
  return { ...sizing, reason: reasons.length > 0 ? `${reasons.join('; ')}; set --processes/--threads to choose` : null };
}
