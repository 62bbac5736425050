import { parentPort, workerData } from 'node:worker_threads';
import type { Matcher } from './candidate.js';
import { fnmatchToRegExp } from './fnmatch.js';
import type { RestampTable } from './keptStamps.js';
import { judgeInOrder, type CandidateChunk, type ChunkAnswer } from './parallelCandidates.js';

/**
 * A worker thread of inspectCandidates: judges the chunks of a parent directory's entries it is
 * sent, with the same code as the main thread (an environment's kept verdict looked at again
 * right after it is judged), and answers each chunk in order.
 */
const { root, patterns, table } = workerData as { root: string; patterns: string[]; table: RestampTable | null };
const matchers: Matcher[] = patterns.map((pattern) => ({ pattern, regexp: fnmatchToRegExp(pattern) }));

parentPort?.on('message', (chunk: CandidateChunk) => {
  judgeInOrder(root, chunk.entries, matchers, table && chunk.kept ? { table, items: chunk.kept } : null).then(
    (outcomes) => parentPort?.postMessage({ id: chunk.id, outcomes } satisfies ChunkAnswer),
    (error: unknown) => parentPort?.postMessage({ id: chunk.id, error: error instanceof Error ? error.message : String(error) } satisfies ChunkAnswer),
  );
});
