import { usageError } from '../errors.js';

/** The daemon process group a deployment runs in: what connection estimates are made for. */
export interface Sizing {
  processes: number;
  threads: number;
}

/** generate's --processes / --threads defaults, and inspect's. */
export const DEFAULT_SIZING: Readonly<Sizing> = { processes: 2, threads: 5 };

/** The one range check of --processes and --threads (inspect and every plan). */
export function checkSizing(sizing: Sizing): void {
  for (const [flag, value] of [['--processes', sizing.processes], ['--threads', sizing.threads]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 1000) throw usageError(`${flag}${Number.isNaN(value) ? '' : ` ${value}`} must be a whole number from 1 to 1000`);
  }
}
