// The benchmark report as readable tables.
import type { Latency } from './measure.js';
import type { BenchReport, Contention } from './run.js';

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const ms = (l: Latency) => `${l.p50.toFixed(3)} / ${l.p99.toFixed(3)}`;
const ratio = (a: number, b: number) => (b > 0 ? `x${(a / b).toFixed(2)}` : '-');
const answers = (c: Contention) =>
  Object.entries(c.answers)
    .map(([how, n]) => `${n} ${how}`)
    .join(', ');

export function renderReport(r: BenchReport): string {
  const out: string[] = [
    ...renderHeader(r),
    ...renderStores(r),
    ...renderPowertools(r),
    ...renderContention(r),
  ];
  if (r.crash.length) out.push('', ...renderCrash(r.crash));
  out.push(...renderScale(r), ...renderEndToEnd(r));
  out.push('', 'Targets (this machine)');
  out.push(table(['target', 'measured', 'verdict'], r.targets.map((t) => [t.target, t.measured, t.met === null ? 'not measured' : t.met ? 'MET' : 'NOT MET'])));
  out.push('', ...r.notes.map((n) => `note: ${n}`), `total ${Math.round(r.durationMs / 1000)} s`, '');
  return out.join('\n');
}

/** The machine, the sample sizes, and what was skipped. */
function renderHeader(r: BenchReport): string[] {
  return [
    `once-checkout bench: ${r.machine.cpus} x ${r.machine.cpuModel}, node ${r.machine.node}, ${r.machine.platform}, load ${r.machine.loadBefore.toFixed(1)} -> ${r.machine.loadAfter.toFixed(1)}`,
    `sizes: ${r.sizes.latencySamples} latency samples in ${r.sizes.latencyWindows} blocks, throughput as ${r.sizes.windows} windows of ${r.sizes.windowMs} ms per side, ${r.sizes.duplicates} duplicates (backend call ${r.sizes.callMs} ms)`,
    ...r.skipped.map((s) => `SKIPPED ${s.what}: ${s.why}`),
  ];
}

/** Per store: latency, round trips, bytes and throughput of one run, and where the store was. */
function renderStores(r: BenchReport): string[] {
  return [
    '',
    'Per run (claim + no-op backend + settle), latency in ms p50 / p99, round trips per run, bytes a fresh run writes',
    '(record text at claim and settle; + what it sends only to compare), ops/s the median of the windows',
    table(
      ['store', 'fresh p50 / p99', 'trips', 'bytes', 'replay p50 / p99', 'trips', ...r.sizes.concurrency.map((c) => `ops/s c=${c}`)],
      r.stores.map((s) => [
        s.store,
        ms(s.fresh),
        s.fresh.roundTrips,
        `${s.bytes.written} + ${s.bytes.compared}`,
        ms(s.replay),
        s.replay.roundTrips,
        ...r.sizes.concurrency.map((c) => s.throughput.find((t) => t.concurrency === c)?.opsPerSec ?? '-'),
      ]),
    ),
    ...r.stores.map((s) => `  ${s.store}: ${s.where}`),
  ];
}

/** Ours against Powertools idempotency on the same Redis: the paired windows, then over all samples. */
function renderPowertools(r: BenchReport): string[] {
  const pt = r.powertools;
  const redis = r.stores.find((s) => s.store === 'redis');
  if (!pt || !redis) return [];
  return [
    '',
    'Same Redis, same process: once-checkout vs Powertools idempotency in paired windows (ABAB…, order swapped each pair).',
    'advantage = how many times better ours is in one pair (ours/theirs for ops/s, theirs/ours for ms); > 1: ours ahead',
    table(
      ['', 'once-checkout', 'powertools', 'advantage median', 'IQR', 'min - max', 'pairs', 'ahead'],
      pt.comparison.map((c) => [
        `${c.metric}${c.unit === 'ms' || c.unit === 'us' ? ` ${c.unit}` : ''}`,
        c.ours,
        c.theirs,
        `x${c.advantage.median.toFixed(2)}`,
        `${c.advantage.q1.toFixed(2)} - ${c.advantage.q3.toFixed(2)}`,
        `${c.advantage.min.toFixed(2)} - ${c.advantage.max.toFixed(2)}`,
        c.pairs,
        c.ahead,
      ]),
    ),
    table(
      ['over all samples', 'once-checkout', 'powertools', 'ours/theirs'],
      [
        ['fresh p99 ms', redis.fresh.p99, pt.fresh.p99, ratio(redis.fresh.p99, pt.fresh.p99)],
        ['replay p99 ms', redis.replay.p99, pt.replay.p99, ratio(redis.replay.p99, pt.replay.p99)],
        ['fresh round trips', redis.fresh.roundTrips, pt.fresh.roundTrips, ratio(redis.fresh.roundTrips, pt.fresh.roundTrips)],
        ['fresh bytes written (record texts)', redis.bytes.written, pt.bytes.written, ratio(redis.bytes.written, pt.bytes.written)],
        ...(pt.wire
          ? [
              ['fresh bytes to Redis (wire)', pt.wire.ours.toStore, pt.wire.theirs.toStore, ratio(pt.wire.ours.toStore, pt.wire.theirs.toStore)],
              ['fresh bytes from Redis (wire)', pt.wire.ours.fromStore, pt.wire.theirs.fromStore, ratio(pt.wire.ours.fromStore, pt.wire.theirs.fromStore)],
            ]
          : []),
        ['replay round trips', redis.replay.roundTrips, pt.replay.roundTrips, ratio(redis.replay.roundTrips, pt.replay.roundTrips)],
      ],
    ),
  ];
}

/** Concurrent duplicates of one key: executions and answers, per store and for Powertools. */
function renderContention(r: BenchReport): string[] {
  const pt = r.powertools;
  const contentionRows: Array<Array<string | number>> = r.stores.map((s) => [
    `once-checkout/${s.store}`,
    s.contention.executions,
    s.contention.allAnsweredMs,
    answers(s.contention),
  ]);
  if (pt) {
    contentionRows.push(['powertools (Lambda context)', pt.contention.executions, pt.contention.allAnsweredMs, answers(pt.contention)]);
    contentionRows.push(['powertools (no context)', pt.contentionNoContext.executions, pt.contentionNoContext.allAnsweredMs, answers(pt.contentionNoContext)]);
  }
  return ['', `Contention: ${r.sizes.duplicates} concurrent duplicates of one key`, table(['', 'executions', 'all answered ms', 'answers'], contentionRows)];
}

/** Latency with N records already in the store, for the stores measured at scale. */
function renderScale(r: BenchReport): string[] {
  const scaled = r.stores.filter((s) => s.scale.length);
  if (!scaled.length) return [];
  return [
    '',
    'Scale: latency ms p50 / p99 with N records already in the store',
    table(
      ['store', 'records', 'fill ms', 'fresh p50 / p99', 'replay p50 / p99'],
      scaled.flatMap((s) => s.scale.map((row) => [s.store, row.records.toLocaleString('en'), row.fillMs, ms(row.fresh), ms(row.replay)])),
    ),
  ];
}

/** A create_checkout replay over MCP stdio against the no-op tool's floor. */
function renderEndToEnd(r: BenchReport): string[] {
  if (!r.e2e) return [];
  const e = r.e2e;
  return [
    '',
    `End to end over MCP stdio (${e.store}), ${e.samples} calls each, alternating`,
    table(
      ['', 'p50 ms', 'p99 ms', 'answer bytes'],
      [
        ['create_checkout replay', e.replay.p50, e.replay.p99, e.replayBytes],
        ['no-op tool (floor)', e.noop.p50, e.noop.p99, e.noopBytes],
        ['ratio', `x${e.ratioP50} (median of ${e.ratios.length} blocks, IQR ${e.ratio.q1}-${e.ratio.q3})`, `x${e.ratioP99}`, ''],
      ],
    ),
  ];
}

/** The report fits a terminal of this many columns. */
export const REPORT_COLUMNS = 100;

/**
 * Crash mid-call: a narrow table, then each row's answer on lines of its own (an answer is a sentence and a
 * JSON value, far wider than a column).
 */
export function renderCrash(crash: BenchReport['crash']): string[] {
  const lines = ['Crash mid-call: what the next caller of the same operation gets'];
  const rows = crash.map((c, i) => [`${i + 1}. ${c.library}`, c.scenario, c.reExecutions, c.reconciled ? 'yes' : 'no', c.blockedMs]);
  lines.push(...table(['', 'scenario', 'reruns', 'reconciled', 'blocked ms'], rows).split('\n'));
  crash.forEach((c, i) => lines.push(...wrap(`${i + 1}. answer: ${c.answer}`, REPORT_COLUMNS, '     ')));
  return lines;
}

/** `text` cut into lines of at most `width` characters, the later ones indented. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let rest = text;
  let prefix = '';
  while (prefix.length + rest.length > width) {
    const room = width - prefix.length;
    const space = rest.lastIndexOf(' ', room);
    const cut = space > room / 2 ? space : room;
    lines.push(`${prefix}${rest.slice(0, cut).trimEnd()}`);
    rest = rest.slice(cut).trimStart();
    prefix = indent;
  }
  lines.push(`${prefix}${rest}`);
  return lines;
}
