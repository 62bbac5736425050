import type { CliContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { silentProgress, spinner, type Progress } from '../smoke/progress.js';
import { runSmoke, type SmokeReport } from '../smoke/runSmoke.js';

export interface SmokeArgs {
  dir: string;
  name?: string | undefined;
  hello: boolean;
  json: boolean;
  timeout: number;
}

export async function runSmokeCommand(args: SmokeArgs, ctx: CliContext, given?: Progress): Promise<ExitCode> {
  const progress = given ?? (await defaultProgress(args));
  let report: SmokeReport;
  try {
    report = await runSmoke({ dir: args.dir, name: args.name, hello: args.hello, timeoutSeconds: args.timeout, onStep: progress.step });
  } finally {
    progress.stop();
  }
  if (args.json) {
    ctx.stdout(JSON.stringify(report, null, 2));
  } else {
    printReport(report, ctx);
  }
  return report.ok ? EXIT.ok : EXIT.failed;
}

async function defaultProgress(args: SmokeArgs): Promise<Progress> {
  return !args.json && process.stderr.isTTY ? spinner(process.stderr) : silentProgress;
}

function printReport(report: SmokeReport, ctx: CliContext): void {
  const c = ctx.colors;
  const what = report.hello ? 'Hello World at the mount point' : 'the site';
  ctx.stdout(`smoke: ${what} of ${report.targets.map((t) => `${t.name}.conf (${t.urlPrefix})`).join(', ')}`);
  if (report.server.startMs !== null) {
    ctx.stdout(`  started ${report.server.banner ?? 'Apache'} on 127.0.0.1:${report.server.port} in ${report.server.startMs} ms`);
  }
  for (const r of report.requests) {
    const mark = r.ok ? c.green('ok  ') : c.red('FAIL');
    const detail = r.ok ? okDetail(r) : (r.problem ?? '');
    ctx.stdout(`  ${mark} ${String(r.status ?? '---').padEnd(3)} GET ${r.url}  ${r.ms} ms  ${detail}`.trimEnd());
  }
  if (report.server.stopMs !== null) ctx.stdout(`  stopped in ${report.server.stopMs} ms; ${(report.totalMs / 1000).toFixed(1)} s in all`);
  if (report.ok) {
    ctx.stdout(report.hello ? 'Hello World answered: Apache, mod_wsgi and Python work with this configuration.' : 'Trac answered: the configuration works.');
    return;
  }
  for (const [index, f] of report.findings.entries()) {
    ctx.stderr(`${index === 0 ? 'trac-deploy: smoke test failed: ' : 'trac-deploy: also: '}${f.message}`);
    for (const line of f.advice) ctx.stderr(`  ${c.cyan('->')} ${line}`);
    if (f.log.length > 0) {
      ctx.stderr(`  ${/^\[/.test(f.log[0] ?? '') ? "Apache's error log" : 'The page'}:`);
      for (const line of f.log) ctx.stderr(`    ${line}`);
    }
  }
}

function okDetail(r: SmokeReport['requests'][number]): string {
  if (r.hello) {
    const h = r.hello;
    return `Hello World from Python ${h.python ?? '?'} (${h.prefix ?? '?'}), mod_wsgi ${h['mod_wsgi'] ?? '?'}, process group ${h['process-group'] ?? '?'}`;
  }
  return r.title ? JSON.stringify(r.title) : '';
}
