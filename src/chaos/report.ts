// The chaos table a person reads, and the story of each finding, from the ledger.
import { faultTotal, type ChaosSummary } from './run.js';
import type { Finding } from './verdict.js';
import { orderEventsClean } from './order-events.js';

export function formatSummary(s: ChaosSummary): string {
  const rows: Array<[string, string | number]> = [
    ['tasks (create → update → complete)', s.tasks],
    ['protocol to the merchant', s.protocol],
    ['server processes / store', `${s.processes} / ${s.store}`],
    ['seed', s.seed],
    ['faults injected, all kinds (the progress line counts the same)', faultTotal(s.faults)],
    ...Object.entries(s.faults).map(([kind, n]) => [`  fault: ${kind}`, n] as [string, number]),
    ...(s.protocol === 'acp' ? [] : [['  merchant: complete_in_progress (read back)', s.completeInProgress] as [string, number]]),
    ...Object.entries(s.interleavings).map(([kind, n]) => [`  interleaving: ${kind}`, n] as [string, number]),
    ['  requests held: let go by the next call / expired', `${s.held.released} / ${s.held.expired}`],
    ['re-invocations by agents', s.reinvocations],
    ['  of which sent twice in parallel', s.parallelDuplicates],
    ['tasks completed', s.completed],
    ['  completed after the storm passed', s.recoveredAfterStorm],
    ['tasks refused (terminal)', s.refused],
    ['tasks given up', s.gaveUp],
    ['checkout sessions at the merchant', s.sessions],
    ['orders at the merchant', s.orders],
    ['charges at the merchant', s.charges],
    ['DUPLICATES (must be 0)', s.duplicates],
    ['LOST SUCCESSES (must be 0)', s.lostSuccesses],
    ['wrong answers to agents (must be 0)', s.wrongAnswers],
    ['LOST: charged, agent told it failed (must be 0)', s.toldFailedButCharged],
    ['WRONG: charged other than shown (must be 0)', s.chargedNotShown],
    [s.cap === null ? 'charges above the cap (no cap)' : `WRONG: charges above the cap of ${s.cap} (must be 0)`, s.aboveCap ?? '–'],
    ['genuine failures re-executed (attempt ≥ 2)', s.genuineReexecutions],
    ...(s.orderEvents
      ? ([
          ['order events: orders / states sent / deliveries', `${s.orderEvents.orders} / ${s.orderEvents.events} / ${s.orderEvents.deliveries}`],
          ['  sent twice at once / again after success / reordered', `${s.orderEvents.duplicates} / ${s.orderEvents.retries} / ${s.orderEvents.reordered}`],
          ['  states applied / recorded late', `${s.orderEvents.applied} / ${s.orderEvents.late}`],
          ['  events the merchant gave up delivering (every attempt refused)', `${s.orderEvents.givenUp}`],
          ['ORDER EVENTS: missing / stale head / applied twice / complete left open (must be 0)', `${s.orderEvents.missing.length} / ${s.orderEvents.stale.length} / ${s.orderEvents.appliedTwice.length} / ${s.orderEvents.unsettled.length}`],
        ] as Array<[string, string]>)
      : []),
    ['wall time', `${s.wallSeconds} s`],
    ['tool latency p50 / p99', `${wholeMs(s.toolLatencyMs.p50)} / ${wholeMs(s.toolLatencyMs.p99)} (${s.toolLatencyMs.calls} calls)`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  const verdict = isClean(s) ? 'PASS: no duplicate, no lost success, every checkout charged as shown' : 'FAIL: see the findings below';
  return [`once-checkout chaos`, '', ...lines, '', verdict].join('\n');
}

/** Every injected fault of every kind, as the summary lists them; the progress line counts the same. */
/** Latencies in one unit and one precision: whole milliseconds. */
function wholeMs(ms: number): string {
  return `${Math.round(ms)} ms`;
}

export function isClean(s: ChaosSummary): boolean {
  return (
    s.duplicates === 0 &&
    s.lostSuccesses === 0 &&
    s.wrongAnswers === 0 &&
    s.toldFailedButCharged === 0 &&
    s.chargedNotShown === 0 &&
    (s.aboveCap ?? 0) === 0 &&
    orderEventsClean(s.orderEvents)
  );
}

/** Names the task, its keys and its timeline from the ledger. */
export function formatFinding(finding: Finding): string {
  const lines = [`${finding.what}: task ${finding.taskId}, checkouts ${finding.checkoutIds.join(', ')}`];
  for (const record of finding.records) {
    lines.push(`  record ${record.key} (${record.operation} ${record.anchor ?? ''}) attempt ${record.attempt}, ${record.state.status}, outbound key ${record.outbound_key}`);
    for (const event of record.timeline) {
      const extra = [event.outbound_key, event.code, event.detail].filter(Boolean).join(' ');
      lines.push(`    ${new Date(event.at).toISOString()} ${event.event} #${event.attempt} ${extra}`);
    }
  }
  return lines.join('\n');
}
