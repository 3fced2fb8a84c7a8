// Timing: latency percentiles over samples, throughput of many concurrent workers for a fixed time, and the
// paired comparison that holds on a shared machine: short windows of ours and theirs alternating, the ratio
// taken pair by pair, and the median of those ratios with their spread.

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Milliseconds, rounded to microseconds for the report. */
const ms = (value: number) => Math.round(value * 1000) / 1000;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(sorted.length, 1);
  return { n: sorted.length, p50: ms(quantile(sorted, 0.5)), p99: ms(quantile(sorted, 0.99)), mean: ms(mean) };
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** `concurrency` workers run `op` back to back for `durationMs`; ops per second over the wall time. */
export async function throughput(concurrency: number, durationMs: number, op: (i: number) => Promise<unknown>): Promise<number> {
  return (await window(concurrency, durationMs, op)).opsPerSec;
}

/** One throughput window, with this process's CPU time per op: a figure the machine's other load hardly moves. */
export interface Window {
  opsPerSec: number;
  ops: number;
  /** Microseconds of CPU (user + system) this process spent per op. */
  cpuPerOp: number;
}

export async function window(concurrency: number, durationMs: number, op: (i: number) => Promise<unknown>): Promise<Window> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await op(next++);
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { opsPerSec: Math.round(next / (elapsed / 1000)), ops: next, cpuPerOp: Math.round(((used.user + used.system) / Math.max(next, 1)) * 10) / 10 };
}

/** Which way is better for a figure: ops/s higher, milliseconds lower. */
export type Better = 'higher' | 'lower';

export interface Spread {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** Ours against theirs on one figure, from windows taken in pairs (ABAB…, the order swapped every pair). */
export interface Comparison {
  metric: string;
  better: Better;
  unit: string;
  /** Medians over the windows of each side's figure. */
  ours: number;
  theirs: number;
  pairs: number;
  /**
   * How many times better ours is, pair by pair: ours/theirs where higher is better, theirs/ours where lower
   * is better; above 1 means ours is ahead. Targets are judged on the median.
   */
  advantage: Spread;
  /** One figure per pair, in the order measured. */
  advantages: number[];
  /** 'ours' when the whole interquartile range of the advantage is above 1, 'theirs' when below, else 'unclear'. */
  ahead: 'ours' | 'theirs' | 'unclear';
}

const r3 = (value: number) => Math.round(value * 1000) / 1000;

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: r3(sorted[0] ?? NaN), q1: r3(quantile(sorted, 0.25)), median: r3(median(sorted)), q3: r3(quantile(sorted, 0.75)), max: r3(sorted[sorted.length - 1] ?? NaN) };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The comparison of paired windows: `ours[i]` and `theirs[i]` were measured side by side. */
export function compare(metric: string, unit: string, better: Better, ours: readonly number[], theirs: readonly number[]): Comparison {
  const advantages = ours.map((o, i) => r3(better === 'higher' ? o / theirs[i] : theirs[i] / o));
  const advantage = spread(advantages);
  return {
    metric,
    better,
    unit,
    ours: unit === 'ops/s' ? Math.round(median(ours)) : r3(median(ours)),
    theirs: unit === 'ops/s' ? Math.round(median(theirs)) : r3(median(theirs)),
    pairs: advantages.length,
    advantage,
    advantages,
    ahead: advantage.q1 > 1 ? 'ours' : advantage.q3 < 1 ? 'theirs' : 'unclear',
  };
}

/**
 * Runs `windows` pairs of windows, A then B, then B then A, and so on, so that drift and the other side's
 * leftovers (its garbage, its queued work) fall on both alike. Returns each side's figure per pair.
 */
export async function pairedWindows<T>(
  windows: number,
  a: (pair: number) => Promise<T>,
  b: (pair: number) => Promise<T>,
): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < windows; i++) {
    if (i % 2 === 0) {
      out.a.push(await a(i));
      out.b.push(await b(i));
    } else {
      out.b.push(await b(i));
      out.a.push(await a(i));
    }
  }
  return out;
}

/** Splits samples taken alternately into `windows` consecutive blocks of about equal size. */
export function blocks<T>(samples: readonly T[], windows: number): T[][] {
  const size = Math.max(1, Math.floor(samples.length / windows));
  const out: T[][] = [];
  for (let i = 0; i + size <= samples.length && out.length < windows; i += size) out.push(samples.slice(i, i + size));
  return out;
}
