import fs from 'node:fs';
import path from 'node:path';
import { UserError, usageError } from '../errors.js';
import { shWord } from '../escape/shell.js';
import { FILE_ANSWERS, fileAnswerProblem } from './fileAnswers.js';
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
  authLdapBindDn: (_inspection, soFar) => soFar.auth === 'ldap',
  authLdapBindPasswordFile: (_inspection, soFar) => soFar.auth === 'ldap' && soFar.authLdapBindDn !== undefined,
  authKeytab: (_inspection, soFar) => soFar.auth === 'kerberos',
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
  /**
   * --yes: no Python that imports Trac and no --python-home/--site-dir is a usage error naming
   * the command that makes one, not a configuration smoke would fail on.
   */
  requireTrac?: boolean;
  /** Shown before a question: what inspection (or the preflight) found that concerns it. */
  before?: (key: keyof GenerateOptions) => void;
}

/**
 * Ask every question the flags left open; returns the complete options. A file flag that names
 * no readable file is asked again (with the reason) rather than failing at the end.
 */
export async function askOptions({ prompter, inspection, given, pythons, requireTrac = false, before }: AskContext): Promise<GenerateOptions> {
  const answers: Record<string, unknown> = {};
  const kept: GivenOptions = { ...given };
  for (const spec of GENERATE_OPTION_SPECS) {
    if (!spec.question) continue;
    const givenValue = kept[spec.key];
    const badFile = typeof givenValue === 'string' ? fileAnswerProblem(spec.key, givenValue) : null;
    if (spec.key === 'pythonHome' && typeof givenValue === 'string' && kept.siteDir === undefined) {
      // A given virtualenv must import Trac: else the site fails at its first request.
      const problem = pythonHomeProblem(givenValue, await pythons());
      if (problem === null) continue;
      if (requireTrac) throw usageError(`--python-home ${path.resolve(givenValue)}: ${problem}`, `Make it a virtualenv with Trac: ${makeVenvCommand(path.resolve(givenValue))}`);
      delete kept.pythonHome;
      before?.(spec.key);
      answers[spec.key] = await askPythonHome(prompter, spec, await pythons(), false, inspection.path, `--python-home ${path.resolve(givenValue)}: ${problem}`);
      continue;
    }
    if (givenValue !== undefined && badFile === null) continue;
    if (badFile !== null) delete kept[spec.key];
    const relevant = RELEVANT[spec.key];
    if (relevant && !relevant(inspection, { ...kept, ...answers })) continue;
    before?.(spec.key);
    const value =
      spec.key === 'pythonHome'
        ? await askPythonHome(prompter, spec, await pythons(), requireTrac && kept.siteDir === undefined, inspection.path)
        : await askOne(prompter, spec, inspection, badFile === null ? undefined : { value: String(givenValue), problem: badFile });
    if (value !== undefined) answers[spec.key] = value;
  }
  return resolveOptions({ ...kept, ...answers });
}

async function askOne(prompter: Prompter, spec: OptionSpec, inspection: Inspection, rejected?: { value: string; problem: string }): Promise<unknown> {
  const flag = `--${spec.flag}`;
  const fallback = rejected?.value ?? (spec.key === 'name' ? nameFromPath(inspection.path) : DEFAULT_GENERATE_OPTIONS[spec.key]);
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
        message: rejected ? `${spec.question ?? spec.describe} (${rejected.problem})` : (spec.question ?? spec.describe),
        flag,
        ...(fallback !== undefined ? { default: String(fallback) } : {}),
        ...(check ? { validate: asValidator(check) } : FILE_ANSWERS[spec.key] ? { validate: (v: string) => fileAnswerProblem(spec.key, v) ?? true } : {}),
      });
      return text.trim() === '' ? undefined : text.trim();
    }
    default:
      return undefined;
  }
}

const OTHER = Symbol('other');
const NONE = Symbol('none');

/** The command that makes a virtualenv Trac runs from, for the Python mod_wsgi embeds. */
export function makeVenvCommand(home: string): string {
  return `/usr/bin/python3 -m venv ${shWord(home)} && ${shWord(path.join(home, 'bin', 'pip'))} install 'Trac==1.6.*' 'setuptools<82'`;
}

/** Where to suggest a virtualenv: beside the environment (or directory of environments). */
export function suggestedVenv(source: string): string {
  return path.join(path.dirname(path.resolve(source)), 'trac-venv');
}

/** The interpreters that import trac, offered by their virtualenv; the first is the default. */
/** Why a given --python-home cannot serve Trac (no virtualenv, no Trac in it), or null. */
export function pythonHomeProblem(home: string, found: PythonFound[]): string | null {
  const resolved = path.resolve(home);
  const asked = found.find((p) => p.home !== null && path.resolve(p.home) === resolved);
  if (!asked) return 'not a virtualenv whose Python runs here (no bin/python and pyvenv.cfg, or bin/python does not start)';
  return asked.tracVersion ? null : `its Python ${asked.pythonVersion} cannot import trac`;
}

export async function askPythonHome(prompter: Prompter, spec: OptionSpec, found: PythonFound[], requireTrac = false, source = '.', rejected?: string): Promise<string | undefined> {
  const flag = `--${spec.flag}`;
  const withTrac = found.filter((p) => p.tracVersion);
  if (withTrac.length === 0 && requireTrac) {
    const home = suggestedVenv(source);
    throw usageError(
      `no Python that can import trac was found (virtualenvs beside and above ${source}, in /opt, /srv, /usr/local and its owner's home, python3 on PATH, /usr/bin/python3); a configuration without one would fail`,
      `Make one from the Python mod_wsgi embeds: ${makeVenvCommand(home)}\nthen: trac-deploy init ${shWord(source)} --python-home ${shWord(home)} --yes`,
    );
  }
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
  const message = `${rejected ? `${rejected}. ` : ''}${spec.question ?? spec.describe}${withTrac.length === 0 ? ` (none found that can import trac; make one with: ${makeVenvCommand(suggestedVenv(source))})` : ''}`;
  const picked = await prompter.select({ message, flag, choices, default: choices[0]?.value ?? NONE });
  if (picked === NONE) return undefined;
  if (typeof picked === 'string') return picked;
  const typed = await prompter.input({
    message: 'Virtualenv directory',
    flag,
    validate: (v) => {
      if (!v.trim()) return 'give a directory';
      if (!fs.existsSync(path.join(path.resolve(v.trim()), 'bin', 'python'))) {
        return `${path.resolve(v.trim())} has no bin/python: not a virtualenv; make one with ${makeVenvCommand(path.resolve(v.trim()))}`;
      }
      return true;
    },
  });
  return path.resolve(typed.trim());
}

function describeBase(p: PythonFound): string | undefined {
  return p.baseExecutable ? `made from ${p.baseExecutable}; mod_wsgi needs the Python it was built against` : undefined;
}
