import yargs, { type Argv } from 'yargs';
import { COMMANDS } from './cli/commands.js';
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
  const ctx = processContext();
  // A promise nobody awaited failed: still one line and a documented exit code, no stack trace.
  process.once('unhandledRejection', (reason) => {
    process.exit(report(reason, ctx));
  });
  return run(argv, ctx);
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
  const parser: Argv = yargs(argv)
    .scriptName('trac-deploy')
    .usage('$0 <command> [options]\n\nInspect a Trac environment, generate its mod_wsgi and Apache 2.4 configuration, and prove it through a real Apache.')
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      // yargs reports its own parse and check failures with a message; errors thrown by a
      // command's handler arrive as the error alone and keep their meaning.
      if (error instanceof UserError) throw error;
      if (message || error?.message) {
        const spec = COMMANDS.find((c) => c.command.split(' ')[0] === argv[0]);
        throw usageError(`${oneLine(message || error?.message || '', argv, spec?.command)}; see trac-deploy ${spec ? `${argv[0]} ` : ''}--help`);
      }
      throw error;
    })
    .demandCommand(1, 'name a command');
  let y = parser;
  for (const spec of COMMANDS) {
    y = y.command(spec.command, spec.describe, spec.builder, async (args) => {
      const outcome = await spec.run(args as Record<string, unknown>, ctx);
      // The one place a result becomes output and an exit code.
      const { present } = await import('./report/present.js');
      present(outcome, ctx, args.json === true);
      setCode(outcome.exitCode);
    });
  }
  renderHelpOnlyWhenAsked(y);
  return y;
}

type YargsInternals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };

/**
 * yargs renders the whole help text before every command runs, in case a later failure shows it
 * (yargs/build/lib/command.js, cacheHelpMessage): about 70 ms of cliui and string-width on each
 * run. Our failures never show the help, and --help renders it when asked, so the cache is
 * skipped. Without these internals (another yargs) nothing changes.
 */
function renderHelpOnlyWhenAsked(parser: Argv): void {
  const usage = (parser as unknown as YargsInternals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

/** yargs' messages as one line, naming unknown flags as the user typed them and what a flag or command lacks. */
function oneLine(message: string, argv: string[], command?: string): string {
  const valueless = /^Not enough arguments following: (.+)$/.exec(message);
  if (valueless) return `--${valueless[1]} needs a value`;
  if (command && /^Not enough non-option arguments/.test(message)) {
    const [name, ...positionals] = command.split(' ');
    const shown = positionals.map((w) => w.replace(/[<>]/g, '').toUpperCase());
    const wanted = shown.filter((_, i) => positionals[i]?.startsWith('<'));
    return `${name} needs ${wanted.join(' and ')}: trac-deploy ${[name, ...shown].join(' ')}`;
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const names = (unknown[1] ?? '').split(', ').map((name) => {
      const typed = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `-${name}`);
      return typed ? (typed.split('=')[0] ?? typed) : name;
    });
    return `unknown ${names.some((n) => n.startsWith('-')) ? 'flag' : 'argument'}${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
  }
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
