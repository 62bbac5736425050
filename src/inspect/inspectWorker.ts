import { parentPort, workerData } from 'node:worker_threads';
import type { Matcher } from './candidate.js';
import { fnmatchToRegExp } from './fnmatch.js';
import { judgeInOrder, type CandidateChunk, type ChunkAnswer } from './parallelCandidates.js';

/**
 * A worker thread of inspectCandidates: judges the chunks of a parent directory's entries it is
 * sent, with the same code as the main thread, and answers each chunk in order.
 */
const { root, patterns } = workerData as { root: string; patterns: string[] };
const matchers: Matcher[] = patterns.map((pattern) => ({ pattern, regexp: fnmatchToRegExp(pattern) }));

parentPort?.on('message', (chunk: CandidateChunk) => {
  judgeInOrder(root, chunk.entries, matchers).then(
    (outcomes) => parentPort?.postMessage({ id: chunk.id, outcomes } satisfies ChunkAnswer),
    (error: unknown) => parentPort?.postMessage({ id: chunk.id, error: error instanceof Error ? error.message : String(error) } satisfies ChunkAnswer),
  );
});
