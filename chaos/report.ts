import type { CrashReport } from './crash-scenario.js';

/** The crash scenario's summary, as `npm run chaos` prints it. */
export function formatReport(report: CrashReport): string {
  const { options, load, outcome, kills } = report;
  const { duplicates, orders, probes } = outcome;
  const statuses = Object.entries(load.statuses).map(([status, count]) => `${count} × ${status}`);
  const lines = [
    `crash scenario, seed ${options.seed}: ${options.customers} chatters × ${options.eventsEach} events and ${options.buyers} buyers at ${options.ratePerSecond}/s, Send API answering in ${options.graphLatencyMs} ms`,
    `  kills        ${kills.length} × SIGKILL at ${kills.map((kill) => `${(kill.atMs / 1_000).toFixed(1)} s`).join(', ')}` +
      ` (${kills.filter((kill) => kill.duringLoad).length} during the load)`,
    `  restarts     ${kills.map((kill) => `${kill.restart.startMs} ms [${kill.restart.queued} events, ${kill.restart.outbox} effects waiting]`).join(', ')}`,
    `  events       ${load.acked} acknowledged of ${load.posts} posts (${load.ackedAfterRetry} after a retry, ${load.connectionErrors} connection errors` +
      `${statuses.length > 0 ? `, ${statuses.join(', ')}` : ''}, ${load.gaveUp} never acknowledged)`,
    `  replies      ${outcome.deliveredReplies} search replies delivered for ${outcome.expectedReplies} acknowledged searches`,
    `  duplicates   ${duplicates.total} (replies ${duplicates.replies}, receipts ${duplicates.receipts}, CRM ${duplicates.crm}); ` +
      `per kill ${duplicates.perKill.join(', ')}; bound ${options.maxInFlight} in flight per kill, ${duplicates.bound} in all`,
    ...(duplicates.examples.length > 0 ? [`               ${duplicates.examples.join('; ')}`] : []),
    `  orders       ${orders.found} found for ${orders.expected} confirmed purchases, ${orders.exactlyOnce} buyers with exactly one; ${outcome.crmNotified} notified to the CRM`,
    `  next message ${probes.chattersOk}/${probes.chatters} chatters answered once, ${probes.buyersOk}/${probes.buyers} buyers see their order`,
    `  logs         ${report.logLines} server log lines at debug, ${report.leaks.length} with a secret`,
    `  time         ${report.seconds.toFixed(1)} s`,
  ];
  if (report.stderr.length > 0) lines.push(`  stderr       ${report.stderr.slice(0, 5).join(' | ')}`);
  lines.push(report.problems.length === 0 ? '  verdict      nothing lost, nothing out of order' : `  PROBLEMS (${report.problems.length}):`);
  for (const problem of report.problems.slice(0, 40)) lines.push(`    - ${problem}`);
  return lines.join('\n');
}
