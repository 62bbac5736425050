import yargs, { type Argv } from 'yargs';
import { generateOptionsFrom, withGenerateFlags, withOutputFlags } from './cli/generateFlags.js';
import { processContext, type CliContext } from './context.js';
import { EXIT, type ExitCode, messageOf, UserError, usageError } from './errors.js';
import { VERSION } from './version.js';

/**
 * Parses argv, runs one command and returns its exit code. Every error ends here: a UserError
 * prints its one line (and advice) without a stack trace; anything else is a bug, reported as
 * one line too unless TRAC_DEPLOY_DEBUG is set.
 */
export async function run(argv: string[], ctx: CliContext): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const set = (c: ExitCode) => {
    code = c;
  };
  try {
    const parser = buildParser(argv, ctx, set);
    const output = await new Promise<string>((resolve, reject) => {
      parser
        .parseAsync(argv, {}, (error: Error | undefined, _args: unknown, text: string) => {
          if (error) reject(error);
          else resolve(text);
        })
        .catch(reject);
    });
    if (output) ctx.stdout(output);
    return code;
  } catch (error) {
    return report(error, ctx);
  }
}

export async function main(argv: string[]): Promise<ExitCode> {
  return run(argv, processContext());
}

function report(error: unknown, ctx: CliContext): ExitCode {
  if (error instanceof UserError) {
    ctx.stderr(`trac-deploy: ${error.message}`);
    for (const line of error.advice) ctx.stderr(`  ${line}`);
    return error.exitCode;
  }
  ctx.stderr(`trac-deploy: unexpected error: ${messageOf(error)}`);
  if (process.env.TRAC_DEPLOY_DEBUG && error instanceof Error && error.stack) ctx.stderr(error.stack);
  else ctx.stderr('  Set TRAC_DEPLOY_DEBUG=1 for details, and please report it.');
  return EXIT.failed;
}

function buildParser(argv: string[], ctx: CliContext, setCode: (c: ExitCode) => void): Argv {
  return yargs(argv)
    .scriptName('trac-deploy')
    .usage('$0 <command> [options]\n\nInspect a Trac environment, generate its mod_wsgi and Apache 2.4 configuration, and prove it through a real Apache.')
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      throw error ?? usageError(`${message}; see trac-deploy --help`);
    })
    .demandCommand(1, 'name a command')
    .command(
      'inspect <path>',
      'report what a Trac environment (or a directory of them) needs for deployment',
      (y) =>
        y
          .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory' })
          .option('json', { type: 'boolean', default: false, describe: 'one JSON document on stdout' }),
      async (args) => {
        const { runInspect } = await import('./commands/inspect.js');
        setCode(await runInspect({ path: args.path, json: args.json }, ctx));
      },
    )
    .command(
      'generate <path>',
      'write the .wsgi script and the Apache configuration for an environment or parent directory',
      (y) =>
        withOutputFlags(
          withGenerateFlags(
            y
              .positional('path', { type: 'string', demandOption: true, describe: 'environment or parent directory' })
              .option('out', { type: 'string', demandOption: true, describe: 'directory to write into', group: 'Output:' }),
          ),
        ),
      async (args) => {
        const { runGenerate } = await import('./commands/generate.js');
        const a = args as unknown as Record<string, unknown> & { path: string; out: string; force: boolean; dryRun: boolean; check: boolean; json: boolean };
        setCode(await runGenerate({ ...generateOptionsFrom(a), path: a.path, out: a.out, force: a.force, dryRun: a.dryRun, check: a.check, json: a.json }, ctx));
      },
    ) as unknown as Argv;
}
