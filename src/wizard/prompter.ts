import { usageError } from '../errors.js';

/**
 * What the wizard asks through. The real one is @inquirer/prompts (loaded lazily); unit tests
 * pass a scripted fake; without a terminal a recorder stands in that asks nothing and notes
 * which flag would have answered each question.
 */
export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
}

export interface Prompter {
  input(q: { message: string; default?: string; validate?: (value: string) => string | true; flag: string }): Promise<string>;
  select<T>(q: { message: string; choices: Choice<T>[]; default?: T; flag: string }): Promise<T>;
  confirm(q: { message: string; default: boolean; flag: string }): Promise<boolean>;
}

/** Ctrl-C (or a closed terminal) at a prompt. Nothing has been written when this is thrown. */
export class WizardCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'WizardCancelled';
  }
}

/** The real prompts. Ctrl-C makes inquirer throw ExitPromptError; it becomes WizardCancelled. */
export async function inquirerPrompter(): Promise<Prompter> {
  const prompts = await import('@inquirer/prompts');
  const cancellable = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await ask();
    } catch (error) {
      if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) throw new WizardCancelled();
      throw error;
    }
  };
  return {
    input: ({ message, default: fallback, validate }) =>
      cancellable(() =>
        prompts.input({
          message,
          ...(fallback !== undefined ? { default: fallback } : {}),
          ...(validate ? { validate } : {}),
        }),
      ),
    select: <T>({ message, choices, default: fallback }: { message: string; choices: Choice<T>[]; default?: T }) =>
      cancellable(() =>
        prompts.select<T>({
          message,
          choices: choices.map((c) => ({ value: c.value, name: c.name, ...(c.description ? { description: c.description } : {}) })),
          ...(fallback !== undefined ? { default: fallback } : {}),
          pageSize: 12,
        }),
      ),
    confirm: ({ message, default: fallback }) => cancellable(() => prompts.confirm({ message, default: fallback })),
  };
}

/**
 * Answers every question with its default: --yes. A default the question's own check rejects
 * (a file flag naming no file, a required answer with none) is bad input: exit 2 with the reason.
 */
export function defaultsPrompter(): Prompter {
  return {
    input: async ({ default: fallback, validate, flag }) => {
      const value = fallback ?? '';
      const verdict = validate?.(value) ?? true;
      if (verdict !== true) throw usageError(verdict.startsWith('--') ? verdict : `${flag}: ${verdict}`, `Give it as a flag: ${flag} VALUE`);
      return value;
    },
    select: async <T>({ choices, default: fallback }: { choices: Choice<T>[]; default?: T }) => {
      if (fallback !== undefined) return fallback;
      const first = choices[0];
      if (!first) throw new Error('a select question without choices');
      return first.value;
    },
    confirm: async ({ default: fallback }) => fallback,
  };
}

/**
 * No terminal and no --yes: takes the defaults so the flow can go on, but records the flag of
 * every question it was asked; the wizard then stops before writing and names them all.
 */
export function recordingPrompter(): Prompter & { needed: string[] } {
  const defaults = defaultsPrompter();
  const needed: string[] = [];
  const note = (flag: string) => {
    if (!needed.includes(flag)) needed.push(flag);
  };
  return {
    needed,
    input: (q) => {
      note(q.flag);
      return defaults.input(q);
    },
    select: (q) => {
      note(q.flag);
      return defaults.select(q);
    },
    confirm: (q) => {
      note(q.flag);
      return defaults.confirm(q);
    },
  };
}
