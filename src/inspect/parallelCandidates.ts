import os from 'node:os';
import { inspectCandidate, type CandidateOutcome, type Matcher } from './candidate.js';
import { restamp, type Restamped, type RestampItem, type RestampTable } from './keptStamps.js';

/** A directory entry to judge: its name, and whether the listing says it is a directory (null: follow the link). */
export type Candidate = [name: string, isDir: boolean | null];

export interface CandidateChunk {
  id: number;
  entries: Candidate[];
  /** By entry: its kept verdict's record to look at again once it is judged (keptStamps.ts), or null. */
  kept: (RestampItem | null)[] | null;
}

/** An entry's outcome, with what the look at its kept verdict found (when it has one). */
export type JudgedOutcome = CandidateOutcome & { restamped?: Restamped };

export type ChunkAnswer = { id: number; outcomes: JudgedOutcome[] } | { id: number; error: string };

/**
 * Kept verdicts of a directory (directoryVerdicts.ts) to look at again as their environments are
 * judged: `prepare` is told how many entries the directory has (the bound of what is read) before
 * any is judged and gives what every look shares and each environment's record by its path, or
 * null when none is kept; `found` is filled with what each look found, by environment path.
 */
export interface KeptLookups {
  prepare(entries: number): PreparedLookups | null;
  found: Map<string, Restamped>;
}

export interface PreparedLookups {
  table: RestampTable;
  itemFor(envPath: string): RestampItem | null;
}

/** Below this many entries, starting threads costs more than it saves. */
const PARALLEL_FROM = 2000;
const CHUNK = 250;

/**
 * How many worker threads judge a parent directory's entries: TRAC_DEPLOY_INSPECT_WORKERS when
 * set (0 = none), else one per core for large directories. Workers run the built JavaScript; from
 * TypeScript sources (unit tests) everything stays on the main thread.
 */
export function workerCount(entries: number): number {
  const given = process.env.TRAC_DEPLOY_INSPECT_WORKERS;
  const wanted = given !== undefined && /^\d+$/.test(given) ? Number(given) : entries >= PARALLEL_FROM ? Math.min(os.availableParallelism(), 8) : 0;
  return import.meta.url.endsWith('.js') ? Math.min(wanted, Math.ceil(entries / CHUNK)) : 0;
}

/**
 * Entries judged one after the other: each is a few small synchronous reads (VERSION, trac.ini,
 * a stat; the SQLite database when there is one), so running several at once would only
 * interleave them on the same thread. An environment with a kept verdict (KEPT, aligned with
 * ENTRIES) has it looked at right after it is judged.
 */
export async function judgeInOrder(root: string, entries: readonly Candidate[], matchers: readonly Matcher[], kept?: { table: RestampTable; items: readonly (RestampItem | null)[] } | null): Promise<JudgedOutcome[]> {
  const outcomes: JudgedOutcome[] = [];
  for (let i = 0; i < entries.length; i++) {
    const [name, isDir] = entries[i]!;
    const outcome: JudgedOutcome = await inspectCandidate(root, name, matchers, isDir ?? undefined);
    const item = kept?.items[i];
    if (kept && item && outcome.environment) outcome.restamped = restamp(kept.table, outcome.environment.path, item);
    outcomes.push(outcome);
  }
  return outcomes;
}

/**
 * Every entry judged as Trac's project index would (candidate.ts), in the order given: on the
 * main thread, or spread over worker threads in chunks handed out as workers become free.
 */
export async function inspectCandidates(root: string, entries: Candidate[], matchers: readonly Matcher[], workers: number, kept?: PreparedLookups | null): Promise<JudgedOutcome[]> {
  // The environment's path as inspectCandidate makes it (path.join of a resolved ROOT and an entry name, which has no slash).
  const under = root.endsWith('/') ? root : `${root}/`;
  const itemsOf = (list: readonly Candidate[]) => (kept ? list.map(([name]) => kept.itemFor(`${under}${name}`)) : null);
  if (workers <= 0) return judgeInOrder(root, entries, matchers, kept ? { table: kept.table, items: itemsOf(entries)! } : null);
  // Loaded only for a large directory: not at every start of inspect and generate.
  const { Worker } = await import('node:worker_threads');
  const chunks: Candidate[][] = [];
  for (let i = 0; i < entries.length; i += CHUNK) chunks.push(entries.slice(i, i + CHUNK));
  const answers: JudgedOutcome[][] = new Array<JudgedOutcome[]>(chunks.length);
  let next = 0;
  const patterns = matchers.map((m) => m.pattern);
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL('./inspectWorker.js', import.meta.url), { workerData: { root, patterns, table: kept?.table ?? null } });
      let inFlight = 0;
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        void worker.terminate();
        reject(error);
      };
      const send = () => {
        // Two chunks per worker: the next one is waiting while the thread answers the first.
        while (inFlight < 2 && next < chunks.length) {
          const id = next++;
          worker.postMessage({ id, entries: chunks[id]!, kept: itemsOf(chunks[id]!) } satisfies CandidateChunk);
          inFlight++;
        }
        if (inFlight === 0) void worker.terminate().then(() => resolve());
      };
      worker.on('message', (answer: ChunkAnswer) => {
        inFlight--;
        if ('error' in answer) return fail(new Error(answer.error));
        answers[answer.id] = answer.outcomes;
        send();
      });
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (inFlight > 0) fail(new Error(`an inspect worker thread stopped (exit ${code})`));
      });
      send();
    });
  await Promise.all(Array.from({ length: workers }, runWorker));
  return answers.flat();
}
