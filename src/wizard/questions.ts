import { UserError } from '../errors.js';
import type { Inspection } from '../inspect/types.js';
import type { PythonFound } from '../python/findPythons.js';
import { DEFAULT_GENERATE_OPTIONS, GENERATE_OPTION_SPECS, type GenerateOptions, type OptionSpec } from '../plan/options.js';
import { resolveOptions } from '../plan/resolveOptions.js';
import { nameFromPath, validateName, validateUrlPrefix } from '../plan/validate.js';
import type { Choice, Prompter } from './prompter.js';

/**
 * The wizard's questions come from the option table (GENERATE_OPTION_SPECS entries that have a
 * `question`), in its order, so every question has its flag. Only what the user did not give
 * as a flag and what matters for this inspection is asked.
 */
export type GivenOptions = Partial<GenerateOptions>;

/**
 * Questions that make sense only for some inspections or earlier answers (the table orders
 * the login method before the questions that depend on it).
 */
const RELEVANT: Partial<Record<keyof GenerateOptions, (inspection: Inspection, soFar: Partial<GenerateOptions>) => boolean>> = {
  pool: (inspection) => inspection.environments.some((e) => e.database?.scheme === 'postgres' || e.database?.scheme === 'mysql'),
  authUserFile: (_inspection, soFar) => soFar.auth === 'basic' || soFar.auth === 'digest',
  authLdapUrl: (_inspection, soFar) => soFar.auth === 'ldap',
  stripRealm: (_inspection, soFar) => soFar.auth === 'kerberos' || soFar.auth === 'ldap',
};

/** Synchronous checks for typed answers: the planner's own validators, their message shown. */
const VALIDATE: Partial<Record<keyof GenerateOptions, (value: string) => unknown>> = {
  urlPrefix: validateUrlPrefix,
  name: validateName,
};

export function asValidator(check: (value: string) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      check(value);
      return true;
    } catch (error) {
      if (error instanceof UserError) return error.message;
      throw error;
    }
  };
}

export interface AskContext {
  prompter: Prompter;
  inspection: Inspection;
  given: GivenOptions;
  /** Detected interpreters, for the python-home question. */
  pythons: () => Promise<PythonFound[]>;
}

/** Ask every question the flags left open; returns the complete options. */
export async function askOptions({ prompter, inspection, given, pythons }: AskContext): Promise<GenerateOptions> {
  const answers: Record<string, unknown> = {};
  for (const spec of GENERATE_OPTION_SPECS) {
    if (!spec.question || given[spec.key] !== undefined) continue;
    const relevant = RELEVANT[spec.key];
    if (relevant && !relevant(inspection, { ...given, ...answers })) continue;
    const value = spec.key === 'pythonHome' ? await askPythonHome(prompter, spec, await pythons()) : await askOne(prompter, spec, inspection);
    if (value !== undefined) answers[spec.key] = value;
  }
  return resolveOptions({ ...given, ...answers });
}

async function askOne(prompter: Prompter, spec: OptionSpec, inspection: Inspection): Promise<unknown> {
  const flag = `--${spec.flag}`;
  const fallback = spec.key === 'name' ? nameFromPath(inspection.path) : DEFAULT_GENERATE_OPTIONS[spec.key];
  if (spec.choices) {
    return prompter.select({
      message: spec.question ?? spec.describe,
      flag,
      choices: spec.choices.map((c) => ({ value: c, name: c })),
      default: String(fallback ?? spec.choices[0]),
    });
  }
  switch (spec.type) {
    case 'boolean':
      return prompter.confirm({ message: spec.question ?? spec.describe, flag, default: Boolean(fallback) });
    case 'number': {
      const text = await prompter.input({
        message: spec.question ?? spec.describe,
        flag,
        default: String(fallback ?? ''),
        validate: (v) => (/^\d+$/.test(v.trim()) ? true : `${flag} takes a whole number`),
      });
      return Number(text);
    }
    case 'string': {
      const check = VALIDATE[spec.key];
      const text = await prompter.input({
        message: spec.question ?? spec.describe,
        flag,
        ...(fallback !== undefined ? { default: String(fallback) } : {}),
        ...(check ? { validate: asValidator(check) } : {}),
      });
      return text === '' ? undefined : text;
    }
    default:
      return undefined;
  }
}

const OTHER = Symbol('other');
const NONE = Symbol('none');

/** The interpreters that import trac, offered by their virtualenv; the first is the default. */
export async function askPythonHome(prompter: Prompter, spec: OptionSpec, found: PythonFound[]): Promise<string | undefined> {
  const flag = `--${spec.flag}`;
  const withTrac = found.filter((p) => p.tracVersion);
  const choices: Choice<string | typeof OTHER | typeof NONE>[] = [];
  for (const p of withTrac) {
    if (p.home) {
      choices.push({ value: p.home, name: `${p.home} (Python ${p.pythonVersion}, Trac ${p.tracVersion})`, description: describeBase(p) });
    } else {
      choices.push({ value: NONE, name: `no virtualenv: ${p.executable} imports Trac ${p.tracVersion} itself` });
    }
  }
  if (!choices.some((c) => c.value === NONE)) {
    choices.push({ value: NONE, name: 'no virtualenv (Trac is installed for the Python mod_wsgi embeds)' });
  }
  choices.push({ value: OTHER, name: 'another directory...' });
  const message = `${spec.question ?? spec.describe}${withTrac.length === 0 ? ' (none found that can import trac)' : ''}`;
  const picked = await prompter.select({ message, flag, choices, default: choices[0]?.value ?? NONE });
  if (picked === NONE) return undefined;
  if (typeof picked === 'string') return picked;
  return prompter.input({ message: 'Virtualenv directory', flag, validate: (v) => (v.trim() ? true : 'give a directory') });
}

function describeBase(p: PythonFound): string | undefined {
  return p.baseExecutable ? `made from ${p.baseExecutable}; mod_wsgi needs the Python it was built against` : undefined;
}
