import type { CliContext } from '../context.js';
import type { CiOutcome, FilesOutcome, Outcome } from '../commands/outcome.js';
import { printApply, applyJson } from './apply.js';
import { fleetJson, printFleet } from './fleet.js';
import { printDeploy, deployJson } from './deploy.js';
import { filesJson, printFiles } from './files.js';
import { printFindings } from './findings.js';
import { formatInspection } from './inspection.js';
import { jsonPieces } from './jsonText.js';
import { printSmoke } from './smoke.js';

/**
 * The CLI's one way out: an outcome as one JSON document on stdout (--json), or as text
 * (results on stdout; findings, notes and failures on stderr). The exit code is the outcome's.
 */
export function present(outcome: Outcome, ctx: CliContext, json: boolean): void {
  const document = json ? jsonOf(outcome) : undefined;
  if (document !== undefined) {
    // Piece by piece: a large document (inspect of a big parent directory) is never one string.
    let text = '';
    for (const piece of jsonPieces(document)) {
      text += piece;
      if (text.length >= 65536) {
        ctx.stdout(text);
        text = '';
      }
    }
    if (text) ctx.stdout(text);
    return;
  }
  printText(outcome, ctx);
}

/** The --json document of an outcome; undefined for commands that have none (ci, init). */
export function jsonOf(outcome: Outcome): unknown {
  switch (outcome.kind) {
    case 'inspect':
      return outcome.inspection;
    case 'files':
      return filesOutcomeJson(outcome);
    case 'deploy':
      return deployJson(outcome);
    case 'smoke':
      return outcome.report;
    case 'apply':
      return applyJson(outcome);
    case 'generate-apply': {
      const generated = filesOutcomeJson(outcome.generate) as Record<string, unknown>;
      return outcome.apply ? { ...generated, apply: applyJson(outcome.apply) } : generated;
    }
    case 'fleet':
      return fleetJson(outcome);
    case 'ci':
    case 'init':
      return undefined;
  }
}

function printText(outcome: Outcome, ctx: CliContext): void {
  switch (outcome.kind) {
    case 'inspect':
      ctx.stdout(formatInspection(outcome.inspection));
      printFindings(ctx, outcome.findings);
      return;
    case 'files':
      printFilesOutcome(outcome, ctx);
      return;
    case 'ci':
      printCi(outcome, ctx);
      return;
    case 'deploy':
      printDeploy(outcome, ctx);
      return;
    case 'smoke':
      printSmoke(outcome.report, ctx);
      return;
    case 'apply':
      printApply(outcome, ctx);
      return;
    case 'generate-apply':
      printFilesOutcome(outcome.generate, ctx);
      if (outcome.apply) printApply(outcome.apply, ctx);
      return;
    case 'fleet':
      printFleet(outcome, ctx);
      return;
    case 'init':
      if (outcome.message) ctx.stderr(`trac-deploy: ${outcome.message}`);
      if (outcome.next) ctx.stdout(`next: ${outcome.next}`);
      return;
  }
}

function filesOutcomeJson(outcome: FilesOutcome): Record<string, unknown> {
  const summary = { environments: outcome.plan.source.environments, plan: outcome.plan, problems: outcome.findings };
  const { result } = outcome;
  if (result.action === 'check') return { drift: outcome.exitCode !== 0, files: filesJson(result), ...summary };
  return { dryRun: result.action === 'dry-run', files: filesJson(result), ...summary };
}

function printFilesOutcome(outcome: FilesOutcome, ctx: CliContext): void {
  printFiles(ctx, outcome.result);
  printFindings(ctx, outcome.findings);
  printNotes(ctx, outcome.notes);
}

function printCi(outcome: CiOutcome, ctx: CliContext): void {
  printNotes(ctx, outcome.notes);
  if (outcome.result) printFiles(ctx, outcome.result);
  else ctx.stdout(outcome.content);
}

export function printNotes(ctx: CliContext, notes: readonly string[]): void {
  for (const note of notes) ctx.stderr(`${ctx.colors.cyan('note')}: ${note}`);
}
