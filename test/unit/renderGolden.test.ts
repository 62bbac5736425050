import fs from 'fs-extra';
import path from 'node:path';
import yargs from 'yargs';
import { describe, expect, it, vi } from 'vitest';

// Sizing from the machine's cores (plan/sizingDecision.ts) is pinned, so the goldens read the
// same on every machine: 2 cores, as the machine they were written on.
vi.mock('node:os', async (importOriginal) => {
  const os = await importOriginal<typeof import('node:os')>();
  const pinned = { ...os, availableParallelism: () => 2 };
  return { ...pinned, default: pinned };
});
import { generateCommand } from '../../src/cli/generateCommand.js';
import { generateOptionsFrom, outputArgsFrom } from '../../src/cli/generateFlags.js';
import { buildDeployment } from '../../src/commands/generate.js';
import { FIXTURES } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixtureTo } from '../helpers/tracEnv.js';

/**
 * Golden files, laid out as hygen's given/expected trees. fixtures/golden/<case>/given.json
 * says what is on disk and what the user typed:
 *
 *   envs      fixture environments (fixtures/envs/<name>) copied to paths in the case's root
 *   dirs      directories the flags name (--python-home, --site-dir must exist)
 *   files     files the flags name, with their content (--auth-user-file, --auth-keytab, ...)
 *   generate  the arguments of `trac-deploy generate`, --out included
 *
 * and fixtures/golden/<case>/expected/ holds every file generate writes into --out. The case
 * runs the real pipeline, inspect -> plan -> render, in a fresh temp dir; "@ROOT@" in given.json
 * and in the expected files stands for that dir.
 *
 * After a deliberate change: UPDATE_GOLDEN=1 npx vitest run test/unit/renderGolden.test.ts
 * rewrites the expected trees and fails on purpose; review the diff like code, then run again
 * without UPDATE_GOLDEN.
 */
const GOLDEN = path.join(FIXTURES, 'golden');
const ROOT_TOKEN = '@ROOT@';

interface Given {
  about: string;
  envs: Record<string, string>;
  dirs: string[];
  files: Record<string, string>;
  generate: string[];
}

/** The case's world under root, then what generate would write, keyed by path under --out. */
async function runCase(given: Given, root: string): Promise<Map<string, string>> {
  const at = (rel: string) => path.join(root, rel);
  for (const [target, fixture] of Object.entries(given.envs)) await copyFixtureTo(fixture, at(target));
  for (const dir of given.dirs) await fs.mkdirp(at(dir));
  // Mode 0644 whatever the umask: what generate says of a file (a world-readable bind password)
  // must not depend on the shell the tests run in.
  for (const [file, content] of Object.entries(given.files)) {
    await fs.outputFile(at(file), content);
    await fs.chmod(at(file), 0o644);
  }

  const args = await parseGenerate(given.generate.map((a) => a.replaceAll(ROOT_TOKEN, root)));
  const options = generateOptionsFrom(args);
  const { out } = outputArgsFrom(args);
  // generate's own inspect -> plan -> render, plan file included.
  const { plan, files } = await buildDeployment(String(args.path), options, out);
  const rendered = new Map<string, string>();
  for (const file of files) {
    const rel = path.relative(plan.files.outDir, file.path);
    expect(rel.startsWith('..') || path.isAbsolute(rel), `${file.path} lies outside --out`).toBe(false);
    rendered.set(rel, file.content.replaceAll(root, ROOT_TOKEN));
  }
  return rendered;
}

/** The arguments as the CLI parses them: generate's own yargs declaration, strict. */
async function parseGenerate(argv: string[]): Promise<Record<string, unknown>> {
  return (await yargs(['generate', ...argv])
    .command(generateCommand.command, generateCommand.describe, generateCommand.builder)
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    })
    .parseAsync()) as Record<string, unknown>;
}

async function readTree(dir: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  if (!(await fs.pathExists(dir))) return tree;
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    tree.set(path.relative(dir, full), await fs.readFile(full, 'utf8'));
  }
  return tree;
}

const CASES = fs
  .readdirSync(GOLDEN, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('generate writes the golden files', () => {
  it('has its cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of CASES) {
    it(name, async () => {
      const dir = path.join(GOLDEN, name);
      const given = (await fs.readJson(path.join(dir, 'given.json'))) as Given;
      const root = await tempDir('trac-deploy-golden-');
      // The root must appear verbatim in every escaped form of a path (Python, Apache, JSON).
      expect(root).toMatch(/^[A-Za-z0-9/_.-]+$/);
      const rendered = await runCase(given, root);
      const expectedDir = path.join(dir, 'expected');

      if (process.env.UPDATE_GOLDEN) {
        await fs.remove(expectedDir);
        for (const [rel, content] of rendered) await fs.outputFile(path.join(expectedDir, rel), content);
        throw new Error(
          `UPDATE_GOLDEN: rewrote ${path.relative(process.cwd(), expectedDir)} (${[...rendered.keys()].join(', ')}); ` +
            'review the diff, then run the tests again without UPDATE_GOLDEN',
        );
      }

      const expected = await readTree(expectedDir);
      expect([...rendered.keys()].sort(), `files in ${expectedDir}`).toEqual([...expected.keys()].sort());
      for (const [rel, content] of rendered) {
        expect(content, path.join(expectedDir, rel)).toBe(expected.get(rel));
      }
    });
  }
});
