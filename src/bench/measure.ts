// Timing: latency percentiles over samples, and throughput of many concurrent workers for a fixed time.

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Milliseconds, rounded to microseconds for the report. */
const ms = (value: number) => Math.round(value * 1000) / 1000;

export function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(sorted.length, 1);
  return { n: sorted.length, p50: ms(at(0.5)), p99: ms(at(0.99)), mean: ms(mean) };
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** `concurrency` workers run `op` back to back for `durationMs`; ops per second over the wall time. */
export async function throughput(concurrency: number, durationMs: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await op(next++);
    }),
  );
  return Math.round(next / ((performance.now() - started) / 1000));
}
