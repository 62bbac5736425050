import type { CliContext } from '../context.js';
import type { SmokeReport } from '../smoke/runSmoke.js';
import { printFindings } from './findings.js';

/** The smoke test as text: each request, then the verdict or the findings with their causes. */
export function printSmoke(report: SmokeReport, ctx: CliContext): void {
  const c = ctx.colors;
  const what = report.hello ? 'Hello World at the mount point' : 'the site';
  if (report.live) ctx.stdout(`smoke: the live site at ${report.live}${report.dir ? ` (pages from ${report.dir})` : ''}`);
  else ctx.stdout(`smoke: ${what} of ${report.targets.map((t) => `${t.name}.conf (${t.urlPrefix})`).join(', ')}`);
  if (report.server.startMs !== null) {
    ctx.stdout(`  started ${report.server.banner ?? 'Apache'} on 127.0.0.1:${report.server.port} in ${report.server.startMs} ms`);
  }
  for (const r of report.requests) {
    if (r.skipped) {
      ctx.stdout(`  ${c.yellow('skip')} --- ${r.what}: ${r.skipped}`);
      continue;
    }
    const mark = r.ok ? c.green('ok  ') : c.red('FAIL');
    const detail = r.ok ? okDetail(r) : (r.problem ?? '');
    ctx.stdout(`  ${mark} ${String(r.status ?? '---').padEnd(3)} GET ${r.url}  ${r.ms} ms  ${r.what}${detail ? `: ${detail}` : ''}`.trimEnd());
  }
  if (report.server.stopMs !== null) ctx.stdout(`  stopped in ${report.server.stopMs} ms; ${(report.totalMs / 1000).toFixed(1)} s in all`);
  if (report.ok) {
    const skipped = report.requests.filter((r) => r.skipped).length;
    ctx.stdout(
      report.live
        ? `Trac answered on the live site${skipped ? ` (${skipped} skipped, listed above)` : ''}.`
        : report.hello
          ? 'Hello World answered: Apache, mod_wsgi and Python work with this configuration.'
          : `Trac answered: the configuration works (every page asked for${skipped ? `; ${skipped} skipped, listed above` : ''}).`,
    );
    return;
  }
  printFindings(ctx, report.findings, { prefix: 'trac-deploy: ', label: (_f, index) => (index === 0 ? 'smoke test failed' : 'also') });
}

function okDetail(r: SmokeReport['requests'][number]): string {
  if (r.hello) {
    const h = r.hello;
    return `Hello World from Python ${h.python ?? '?'} (${h.prefix ?? '?'}), mod_wsgi ${h['mod_wsgi'] ?? '?'}, process group ${h['process-group'] ?? '?'}`;
  }
  return r.title ? JSON.stringify(r.title) : '';
}
