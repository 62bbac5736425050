import fs from 'node:fs/promises';
import path from 'node:path';
import { EXIT } from '../errors.js';
import { buildFleet, type FleetDeps, type FleetInput } from '../fleet/buildFleet.js';
import { writeStaticArchive } from '../fleet/htdocsArchive.js';
import { runPlaybook } from '../fleet/runPlaybook.js';
import { emitFiles, filesExitCode, type EmitOptions } from '../write/emitFiles.js';
import type { FleetOutcome } from './outcome.js';

export interface FleetArgs extends FleetInput, EmitOptions {
  run: boolean;
}

/**
 * `trac-deploy fleet PATH --inventory FILE --out DIR`: the fleet rules, then an Ansible project
 * rendered from the same plan and templates as generate; with --run, ansible-playbook runs it
 * and `log` shows its progress.
 */
export async function runFleet(args: FleetArgs, log: (line: string) => void, deps: FleetDeps = {}): Promise<FleetOutcome> {
  const build = await buildFleet(args, deps);
  // What the outcome shows as buildFleet decided it; the rest is written below.
  const { inventory: _inventory, inspection: _inspection, files: _files, statics: _statics, archivePath: _archive, providers: _providers, ...decided } = build;
  const files = await emitFiles(build.files, args, path.resolve(args.out));
  // The archive's name is the digest of what it holds: one that exists already holds the same files.
  let archive: FleetOutcome['archive'] = { path: build.archivePath, status: 'unchanged', written: false };
  const present = await fs.stat(build.archivePath).then((s) => s.isFile()).catch(() => false);
  if (!present) {
    archive = { path: build.archivePath, status: 'new', written: false };
    if (files.action === 'write') {
      await writeStaticArchive(build.statics, build.archivePath, path.posix.basename(build.layout.htdocs));
      archive.written = true;
    }
  }
  let exitCode = filesExitCode(files);
  if (files.action === 'check' && archive.status !== 'unchanged') exitCode = EXIT.failed;
  const outcome: FleetOutcome = {
    kind: 'fleet',
    exitCode,
    files,
    archive,
    inventory: build.inventory.file,
    hosts: build.inventory.hosts,
    group: build.inventory.group,
    ...decided,
    run: null,
  };
  if (args.run && files.action === 'write') {
    const run = await runPlaybook(path.resolve(args.out), build.inventory.file, log);
    outcome.run = run;
    if (run.exitCode !== 0) outcome.exitCode = EXIT.failed;
  }
  return outcome;
}
