import os from 'node:os';

/**
 * Runs one preflight process: the request's first line, then whatever `input` yields (batches of
 * JSON lines, each written at once), its stdout handed to `onLine` line by line as it arrives.
 * The default is util/streamThroughChild; unit tests fake it.
 */
export type PreflightRunner = (
  command: string,
  args: string[],
  input: AsyncIterable<string>,
  onLine: (line: string) => void,
  /** Added to this process's environment; a variable set to undefined is removed from it. */
  env: Record<string, string | undefined>,
  signal: AbortSignal,
) => Promise<{ exitCode: number | null; signal?: NodeJS.Signals | null; stderr: string; error?: string }>;

/** One line of the program's output, parsed; non-JSON lines (a plugin printing) are dropped. */
export type PreflightLine = { kind: 'python' | 'environment' | 'done'; [key: string]: unknown };

/** How a process that stopped before answering an environment it was given is described. */
export interface WorkerStop {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Last line of its stderr, or why it did not start. */
  reason: string;
  startError: string | null;
  /** No answer for the watchdog's time: it was killed. */
  silent: boolean;
}

export interface WorkerOutcome {
  /** The answer for each index, in the order given; null where none came. */
  answers: (PreflightLine | null)[];
  /** The first "python" line any process wrote. */
  first: PreflightLine | null;
  /** The environment each stopped process was on, with how it stopped. */
  crashed: Map<number, WorkerStop>;
  /** How the last process stopped when none wrote its first line (nothing was asked). */
  lastStop: WorkerStop | null;
}

/** Called as the work goes: what a caller does per environment overlaps with Python's work on the others. */
export interface WorkerHooks {
  /** Right before environment INDEX is first handed to a process. */
  sending?: (index: number) => void;
  /** When a process answered for environment INDEX (its line as written). */
  answered?: (index: number, line: PreflightLine) => void;
}

/** Environments sent ahead to a process: it always has the next ones while it answers one. */
const WINDOW = 48;
const BATCH = 16;
/** Below this many environments per process, a second interpreter costs more than it saves. */
const PER_PROCESS = 100;
/** A process that has environments to answer and writes nothing for this long is stopped. */
export const SILENCE_LIMIT_MS = 600_000;

/**
 * How many Python processes share the environments: TRAC_DEPLOY_PREFLIGHT_WORKERS when set
 * (at least 1), else one per core (at most 8), fewer for a few environments.
 */
export function preflightWorkerCount(environments: number, given = process.env.TRAC_DEPLOY_PREFLIGHT_WORKERS): number {
  if (given !== undefined && /^\d+$/.test(given.trim()) && Number(given) >= 1) return Math.min(Number(given), Math.max(1, environments));
  return Math.max(1, Math.min(os.availableParallelism(), 8, Math.ceil(environments / PER_PROCESS)));
}

/**
 * Hands the environments to `workers` processes as they answer (WINDOW ahead each, so neither a
 * pipe nor a list grows with the count), and puts each answer back at its index: the order of
 * the input, whichever process answered. A process that stops without its "done" is reported on
 * the environment it was answering (crashed); the ones it had been sent after that go to the
 * others, and a replacement is started (at most `workers` times in all) while any are left.
 */
export async function runPreflightWorkers(
  paths: readonly string[],
  workers: number,
  start: (input: AsyncIterable<string>, onLine: (line: string) => void, signal: AbortSignal) => ReturnType<PreflightRunner>,
  silenceMs = SILENCE_LIMIT_MS,
  hooks: WorkerHooks = {},
): Promise<WorkerOutcome> {
  const answers: (PreflightLine | null)[] = new Array<PreflightLine | null>(paths.length).fill(null);
  const crashed = new Map<number, WorkerStop>();
  const retry: number[] = [];
  let next = 0;
  let first: PreflightLine | null = null;
  let lastStop: WorkerStop | null = null;
  let restarts = 0;
  /** Set when the interpreter has no Trac: nothing more is handed out. */
  let stopAll = false;

  // A few environments are dealt out a few at a time, so that every process gets its share.
  const batchSize = Math.max(1, Math.min(BATCH, Math.ceil(paths.length / (Math.max(1, workers) * 4))));
  const window = Math.min(WINDOW, batchSize * 3);
  const take = (max: number): number[] => {
    const batch: number[] = [];
    while (batch.length < max && retry.length > 0) batch.push(retry.shift()!);
    while (batch.length < max && next < paths.length) {
      // Only the first time an environment is sent (not when it goes to another process).
      hooks.sending?.(next);
      batch.push(next++);
    }
    return batch;
  };
  const left = () => retry.length > 0 || next < paths.length;

  const runOne = async (): Promise<void> => {
    const sent: number[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    let sawFirst = false;
    let silent = false;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | null = null;
    const watch = () => {
      if (timer) clearTimeout(timer);
      timer = sent.length > 0 ? setTimeout(() => ((silent = true), abort.abort()), silenceMs) : null;
    };
    const onLine = (text: string) => {
      let line: PreflightLine;
      try {
        line = JSON.parse(text) as PreflightLine;
      } catch {
        return;
      }
      if (!line || typeof line !== 'object') return;
      if (line.kind === 'python') {
        sawFirst = true;
        first ??= line;
        if (!line.trac) stopAll = true;
      } else if (line.kind === 'environment') {
        const index = sent.shift();
        if (index !== undefined) {
          answers[index] = line;
          hooks.answered?.(index, line);
        }
      } else if (line.kind === 'done') {
        done = true;
      } else {
        return;
      }
      watch();
      wake?.();
    };
    const ready = () => new Promise<void>((resolve) => (wake = resolve));
    const exited = { value: false };
    async function* input(): AsyncGenerator<string> {
      for (;;) {
        while (sent.length >= window && !exited.value) await ready();
        if (exited.value || stopAll) return;
        const batch = take(Math.min(batchSize, window - sent.length));
        if (batch.length === 0) return;
        sent.push(...batch);
        watch();
        yield batch.map((i) => `${JSON.stringify(paths[i])}\n`).join('');
      }
    }
    const result = await start(input(), onLine, abort.signal).finally(() => {
      exited.value = true;
      if (timer) clearTimeout(timer);
      wake?.();
    });
    if (done && sent.length === 0) return;
    const stop: WorkerStop = {
      exitCode: result.exitCode,
      signal: result.signal ?? null,
      reason: result.error ?? lastLine(result.stderr),
      startError: result.error ?? null,
      silent,
    };
    lastStop = stop;
    if (!sawFirst) {
      // It never ran Trac's code: nothing to blame on an environment.
      retry.unshift(...sent);
    } else {
      const [on, ...after] = sent;
      if (on !== undefined) crashed.set(on, stop);
      retry.unshift(...after);
    }
    if (left() && !stopAll && restarts < workers && (sawFirst || first !== null)) {
      restarts++;
      await runOne();
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, workers) }, runOne));
  return { answers, first, crashed, lastStop };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}
