// `once-checkout bench`: what exactly-once costs per store, and the same workload through AWS Powertools
// idempotency on the same Redis, in one process run.
import { cpus, loadavg } from 'node:os';
import { createClient } from '@keyv/redis';
import { ourCrash, theirCrash, type CrashRow } from './crash.js';
import { endToEnd, type EndToEnd } from './e2e.js';
import { blocks, compare, latency, median, pairedWindows, timed, window, type Comparison, type Latency } from './measure.js';
import { OurRunner, type Payload } from './ours.js';
import { openTarget, type StoreName, type Target } from './targets.js';
import { openTheirs, type TheirRunner } from './theirs.js';

export type Section = 'scale' | 'e2e' | 'crash' | 'powertools';

export interface BenchOptions {
  stores: StoreName[];
  postgresUrl: string;
  redisUrl: string;
  quick: boolean;
  scale: number[];
  skip: Section[];
  /** Progress lines (stderr). */
  progress(line: string): void;
}

export interface Sizes {
  latencySamples: number;
  /** The latency samples are compared in this many consecutive blocks (each a pair: ours and theirs). */
  latencyWindows: number;
  warmup: number;
  /** One throughput window; ours and theirs alternate window by window. */
  windowMs: number;
  /** Windows per side at each concurrency (pairs, where there is a side to compare with). */
  windows: number;
  concurrency: number[];
  duplicates: number;
  /** How long the contended backend call takes, so duplicates really overlap it. */
  callMs: number;
  scaleSamples: number;
  e2eSamples: number;
  crashLeaseMs: number;
}

export const FULL: Sizes = {
  latencySamples: 2_000,
  latencyWindows: 10,
  warmup: 300,
  windowMs: 200,
  // Pair ratios at c=1 and c=8 spread over about ±10% on a shared 2-core machine; with 10 pairs their median moved
  // by ±0.05 from run to run, with 20 by about √2 less.
  windows: 20,
  concurrency: [1, 8, 64],
  duplicates: 100,
  callMs: 20,
  scaleSamples: 300,
  e2eSamples: 300,
  crashLeaseMs: 1_000,
};

export const QUICK: Sizes = {
  latencySamples: 30,
  latencyWindows: 3,
  warmup: 10,
  windowMs: 30,
  windows: 3,
  concurrency: [1, 8, 64],
  duplicates: 100,
  callMs: 20,
  scaleSamples: 20,
  e2eSamples: 10,
  crashLeaseMs: 300,
};

export const FULL_SCALE = [1_000, 100_000, 1_000_000];
export const QUICK_SCALE = [100, 1_000];
const MEMORY_SCALE_CAP = 100_000;
/** A create_checkout replay over MCP stdio costs at most this many times the no-op tool (p50). */
const E2E_LIMIT = 1.5;

export type WithTrips = Latency & { roundTrips: number };

export interface Contention {
  duplicates: number;
  executions: number;
  allAnsweredMs: number;
  /** How the duplicates were answered, e.g. {"succeeded (ran it)": 1, "succeeded (waited, replayed)": 99}. */
  answers: Record<string, number>;
}

export interface ScaleRow {
  records: number;
  fillMs: number;
  fresh: Latency;
  replay: Latency;
}

/** Fresh-run throughput at one concurrency: the median of short windows, and each window's figure. */
export interface ThroughputRow {
  concurrency: number;
  opsPerSec: number;
  windows: number[];
}

/** What one fresh run writes: characters of record text stored, and sent only to be compared (CAS). */
export interface FreshBytes {
  written: number;
  compared: number;
}

/** Bytes on the wire per fresh run, as Redis counts them (INFO total_net_input/output_bytes). */
export interface WireBytes {
  toStore: number;
  fromStore: number;
}

export interface StoreReport {
  store: StoreName;
  where: string;
  fresh: WithTrips;
  replay: WithTrips;
  bytes: FreshBytes;
  throughput: ThroughputRow[];
  contention: Contention;
  scale: ScaleRow[];
}

export interface PowertoolsReport {
  library: string;
  fresh: WithTrips;
  replay: WithTrips;
  bytes: FreshBytes;
  /** Ours and theirs on the same Redis. */
  wire?: { ours: WireBytes; theirs: WireBytes };
  throughput: ThroughputRow[];
  /**
   * Ours on the same Redis against this library, figure by figure, from paired windows: fresh and replay
   * p50 (blocks of samples taken alternately) and fresh throughput at each concurrency (alternating windows).
   */
  comparison: Comparison[];
  /** With a Lambda context registered (in-progress expiry = its remaining time), as in Lambda. */
  contention: Contention;
  /** Without one, as when the library is used outside Lambda. */
  contentionNoContext: Contention;
}

export interface Goal {
  target: string;
  measured: string;
  met: boolean | null;
}

export interface BenchReport {
  machine: { cpus: number; cpuModel: string; node: string; platform: string; loadBefore: number; loadAfter: number };
  sizes: Sizes & { scale: number[] };
  stores: StoreReport[];
  skipped: Array<{ what: string; why: string }>;
  powertools?: PowertoolsReport;
  crash: CrashRow[];
  e2e?: EndToEnd;
  targets: Goal[];
  notes: string[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withTrips(samples: number[], calls: number): WithTrips {
  return { ...latency(samples), roundTrips: Math.round((calls / samples.length) * 100) / 100 };
}

/** One sample each of ours and theirs per payload, their order swapped every other sample, with store calls counted. */
async function alternating(ours: OurRunner, theirs: TheirRunner | undefined, count: number, payloadAt: (i: number) => Payload) {
  const out = { ours: [] as number[], theirs: [] as number[], ourCalls: 0, theirCalls: 0 };
  for (let i = 0; i < count; i++) {
    const payload = payloadAt(i);
    const steps: Array<() => Promise<void>> = [
      async () => {
        const before = ours.counting.calls;
        out.ours.push(await timed(() => ours.run(payload)));
        out.ourCalls += ours.counting.calls - before;
      },
    ];
    if (theirs) {
      steps.push(async () => {
        const before = theirs.calls;
        out.theirs.push(await timed(() => theirs.run(payload)));
        out.theirCalls += theirs.calls - before;
      });
    }
    for (const step of i % 2 ? steps.reverse() : steps) await step();
  }
  return out;
}

/** Latency of fresh runs and replays, ours and (on Redis) theirs alternating sample by sample. */
async function latencies(ours: OurRunner, theirs: TheirRunner | undefined, sizes: Sizes, offset: number) {
  const payloads: Payload[] = [];
  for (let i = 0; i < sizes.warmup; i++) {
    await ours.run(ours.payload(offset - 1 - i));
    await theirs?.run(ours.payload(offset - 1 - i));
  }
  const fresh = await alternating(ours, theirs, sizes.latencySamples, (i) => {
    const payload = ours.payload(offset + i);
    payloads.push(payload);
    return payload;
  });
  // Replays in another order than the inserts.
  const replay = await alternating(ours, theirs, payloads.length, (i) => payloads[(i * 7919) % payloads.length]);
  // Each block of samples was taken alternately, so its p50s form a pair.
  const p50s = (samples: number[]) => blocks(samples, sizes.latencyWindows).map((b) => latency(b).p50);
  return {
    ours: { fresh: withTrips(fresh.ours, fresh.ourCalls), replay: withTrips(replay.ours, replay.ourCalls) },
    theirs: theirs ? { fresh: withTrips(fresh.theirs, fresh.theirCalls), replay: withTrips(replay.theirs, replay.theirCalls) } : undefined,
    comparison: theirs
      ? [
          compare('fresh p50', 'ms', 'lower', p50s(fresh.ours), p50s(fresh.theirs)),
          compare('replay p50', 'ms', 'lower', p50s(replay.ours), p50s(replay.theirs)),
        ]
      : [],
  };
}

/**
 * Fresh-run throughput at each concurrency in short windows; with theirs, ours and theirs alternate window
 * by window and each pair gives one ratio. Each window also says what it cost in this process's CPU per run,
 * and, on Redis, in the Redis server's: on a busy machine those hold where ops/s swing with the other load.
 */
async function throughputs(ours: OurRunner, theirs: TheirRunner | undefined, sizes: Sizes, serverCpu?: () => Promise<number>) {
  const out = { ours: [] as ThroughputRow[], theirs: [] as ThroughputRow[], comparison: [] as Comparison[] };
  let base = 10_000_000;
  const measured = async (concurrency: number, op: (i: number) => Promise<unknown>) => {
    const server = await serverCpu?.();
    const w = await window(concurrency, sizes.windowMs, op);
    const serverPerOp = server === undefined ? undefined : ((await serverCpu!()) - server) / Math.max(w.ops, 1);
    return { ...w, serverPerOp };
  };
  for (const concurrency of sizes.concurrency) {
    const runOurs = () => {
      const from = (base += 10_000_000);
      return measured(concurrency, (i) => ours.run(ours.payload(from + i)));
    };
    // A short warm-up window each, so the first pair does not pay for connections and compilation.
    await runOurs();
    if (!theirs) {
      const windows: number[] = [];
      for (let i = 0; i < sizes.windows; i++) windows.push((await runOurs()).opsPerSec);
      out.ours.push({ concurrency, opsPerSec: Math.round(median(windows)), windows });
      continue;
    }
    const runTheirs = () => {
      const from = (base += 10_000_000);
      return measured(concurrency, (i) => theirs.run(ours.payload(from + i)));
    };
    await runTheirs();
    const pairs = await pairedWindows(sizes.windows, runOurs, runTheirs);
    const ops = { a: pairs.a.map((w) => w.opsPerSec), b: pairs.b.map((w) => w.opsPerSec) };
    out.ours.push({ concurrency, opsPerSec: Math.round(median(ops.a)), windows: ops.a });
    out.theirs.push({ concurrency, opsPerSec: Math.round(median(ops.b)), windows: ops.b });
    out.comparison.push(compare(`fresh ops/s c=${concurrency}`, 'ops/s', 'higher', ops.a, ops.b));
    out.comparison.push(compare(`node CPU per run c=${concurrency}`, 'us', 'lower', pairs.a.map((w) => w.cpuPerOp), pairs.b.map((w) => w.cpuPerOp)));
    if (serverCpu) {
      const server = (ws: Array<{ serverPerOp?: number }>) => ws.map((w) => Math.round((w.serverPerOp ?? NaN) * 10) / 10);
      out.comparison.push(compare(`Redis CPU per run c=${concurrency}`, 'us', 'lower', server(pairs.a), server(pairs.b)));
    }
  }
  return out;
}

/** The Redis server's CPU time so far, in microseconds (INFO cpu). */
async function redisCpu(redisUrl: string) {
  const client = createClient({ url: redisUrl });
  client.on('error', () => {});
  await client.connect();
  return {
    read: async () => {
      const text = String(await client.info('cpu'));
      const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? NaN);
      return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
    },
    close: () => client.close(),
  };
}

const BYTE_RUNS = 200;

/** What a fresh run writes, ours and theirs, over a few runs outside the timed parts. */
async function freshBytes(ours: OurRunner, theirs: TheirRunner | undefined, base: number) {
  ours.counting.countBytes = true;
  const before = { written: ours.counting.written, compared: ours.counting.compared };
  for (let i = 0; i < BYTE_RUNS; i++) await ours.run(ours.payload(base + i));
  ours.counting.countBytes = false;
  const perRun = (n: number) => Math.round(n / BYTE_RUNS);
  const oursBytes: FreshBytes = { written: perRun(ours.counting.written - before.written), compared: perRun(ours.counting.compared - before.compared) };
  if (!theirs) return { ours: oursBytes };
  const theirBefore = theirs.written;
  for (let i = 0; i < BYTE_RUNS; i++) await theirs.run(ours.payload(base + BYTE_RUNS + i));
  return { ours: oursBytes, theirs: { written: perRun(theirs.written - theirBefore), compared: 0 } };
}

/** Bytes Redis received and sent per fresh run, ours and theirs, from its own counters. */
async function wireBytes(redisUrl: string, ours: OurRunner, theirs: TheirRunner, base: number): Promise<{ ours: WireBytes; theirs: WireBytes }> {
  const client = createClient({ url: redisUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    const counters = async () => {
      const text = String(await client.info('stats'));
      const read = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(text)?.[1] ?? NaN);
      return { in: read('total_net_input_bytes'), out: read('total_net_output_bytes') };
    };
    // What reading the counters itself costs, to take it out.
    const a = await counters();
    const b = await counters();
    const own = { in: b.in - a.in, out: b.out - a.out };
    const measure = async (run: (i: number) => Promise<unknown>): Promise<WireBytes> => {
      const start = await counters();
      for (let i = 0; i < BYTE_RUNS; i++) await run(i);
      const end = await counters();
      return {
        toStore: Math.round((end.in - start.in - own.in) / BYTE_RUNS),
        fromStore: Math.round((end.out - start.out - own.out) / BYTE_RUNS),
      };
    };
    return {
      ours: await measure((i) => ours.run(ours.payload(base + i))),
      theirs: await measure((i) => theirs.run(ours.payload(base + BYTE_RUNS + i))),
    };
  } finally {
    await client.close();
  }
}

async function oursContention(ours: OurRunner, sizes: Sizes): Promise<Contention> {
  const payload = ours.payload(-1_000_000);
  const executionsBefore = ours.executions;
  const answers: Record<string, number> = {};
  const allAnsweredMs = await timed(() =>
    Promise.all(
      Array.from({ length: sizes.duplicates }, async () => {
        const result = await ours.run(payload, async () => {
          await sleep(sizes.callMs);
        });
        const how = `${result.outcome} (${result.replayed ? 'waited, got the result' : 'ran it'})`;
        answers[how] = (answers[how] ?? 0) + 1;
      }),
    ),
  );
  return { duplicates: sizes.duplicates, executions: ours.executions - executionsBefore, allAnsweredMs: Math.round(allAnsweredMs), answers };
}

async function theirsContention(theirs: TheirRunner, sizes: Sizes, tag: number): Promise<Contention> {
  const payload = { run: `contention-${process.pid}-${tag}`, cart: 0 };
  const executionsBefore = theirs.executions;
  const answers: Record<string, number> = {};
  // Without a Lambda context the library warns on every call; keep the report readable.
  const warn = console.warn;
  console.warn = () => {};
  try {
    const allAnsweredMs = await timed(() =>
      Promise.all(
        Array.from({ length: sizes.duplicates }, async () => {
          let how: string;
          try {
            await theirs.run(payload, async () => {
          await sleep(sizes.callMs);
        });
            how = 'result';
          } catch (error) {
            how = (error as Error).name;
          }
          answers[how] = (answers[how] ?? 0) + 1;
        }),
      ),
    );
    return { duplicates: sizes.duplicates, executions: theirs.executions - executionsBefore, allAnsweredMs: Math.round(allAnsweredMs), answers };
  } finally {
    console.warn = warn;
  }
}

async function scaleRows(target: Target, sizes: Sizes, scale: number[], progress: (line: string) => void): Promise<ScaleRow[]> {
  const ours = new OurRunner(target.store);
  const rows: ScaleRow[] = [];
  let filled = 0;
  let next = 0;
  for (const records of scale) {
    const fillMs = await timed(() => target.fill(filled, records));
    filled = records;
    progress(`  ${target.name}: ${records.toLocaleString('en')} records filled in ${Math.round(fillMs)} ms`);
    const payloads = Array.from({ length: sizes.scaleSamples }, () => ours.payload(next++));
    for (const p of payloads.slice(0, Math.min(20, payloads.length))) await ours.run(ours.payload(-1 - next++)); // warm up
    const fresh: number[] = [];
    for (const p of payloads) fresh.push(await timed(() => ours.run(p)));
    const replay: number[] = [];
    for (const p of payloads) replay.push(await timed(() => ours.run(p)));
    rows.push({ records, fillMs: Math.round(fillMs), fresh: latency(fresh), replay: latency(replay) });
  }
  return rows;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const started = performance.now();
  const sizes = options.quick ? QUICK : FULL;
  const urls = { postgres: options.postgresUrl, redis: options.redisUrl };
  const report = emptyReport(options, sizes);
  const run: BenchRun = { options, sizes, urls, wantTheirs: options.stores.includes('redis') && !options.skip.includes('powertools') };
  let crashUrl: { name: StoreName; url: string } | undefined;

  for (const name of options.stores) {
    const target = await openOrSkip(name, report, run);
    if (!target) continue;
    try {
      await measureStore(target, report, run);
      if (name !== 'memory' && target.url && (!crashUrl || name === 'redis')) crashUrl = { name, url: target.url };
      if (!options.skip.includes('crash') && name === 'redis' && target.url) {
        options.progress(`${name}: crash mid-call`);
        report.crash.push(...(await ourCrash(target.store, target.url, sizes.crashLeaseMs)));
        if (run.wantTheirs && report.powertools) report.crash.push(await theirCrash(urls.redis, sizes.crashLeaseMs));
        crashUrl = undefined;
      }
    } finally {
      await target.dispose();
    }
  }

  // No Redis: show our crash handling on the first other shared store.
  if (!options.skip.includes('crash') && crashUrl && report.crash.length === 0) await crashOnAnotherStore(crashUrl.name, report, run);
  if (!options.skip.includes('scale')) await measureScale(report, run);
  if (!options.skip.includes('e2e')) {
    options.progress('end to end over MCP stdio');
    report.e2e = await endToEnd(sizes.e2eSamples, sizes.latencyWindows);
  }
  conclude(report, started);
  return report;
}

/** What every section of a run reads: its options, sizes and store URLs, and whether Powertools is compared. */
interface BenchRun {
  options: BenchOptions;
  sizes: Sizes;
  urls: { postgres: string; redis: string };
  wantTheirs: boolean;
}

/** The report before anything is measured: the machine and the sizes. */
function emptyReport(options: BenchOptions, sizes: Sizes): BenchReport {
  return {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadBefore: loadavg()[0],
      loadAfter: 0,
    },
    sizes: { ...sizes, scale: options.scale },
    stores: [],
    skipped: [],
    crash: [],
    targets: [],
    notes: [],
    durationMs: 0,
  };
}

/** The store's target, or undefined with the reason in `report.skipped` when it cannot be opened. */
async function openOrSkip(name: StoreName, report: BenchReport, { urls, options }: BenchRun): Promise<Target | undefined> {
  try {
    return await openTarget(name, urls);
  } catch (error) {
    report.skipped.push({ what: name, why: (error as Error).message });
    options.progress(`${name}: skipped (${(error as Error).message})`);
    return undefined;
  }
}

/** Latency, throughput, bytes and contention on one store; on Redis, the same beside Powertools. */
async function measureStore(target: Target, report: BenchReport, { options, sizes, urls, wantTheirs }: BenchRun): Promise<void> {
  const name = target.name;
  options.progress(`${name}: latency, throughput, contention on ${target.where}`);
  const ours = new OurRunner(target.store);
  let theirs: TheirRunner | undefined;
  if (name === 'redis' && wantTheirs) {
    try {
      theirs = await openTheirs({ redisUrl: urls.redis, keyPrefix: `once-bench-pt-${process.pid}`, remainingMs: 30_000 });
    } catch (error) {
      report.skipped.push({ what: 'powertools', why: `not loadable (${(error as Error).message}); it is a dev dependency` });
    }
  }
  const lat = await latencies(ours, theirs, sizes, 0);
  const server = theirs && target.url ? await redisCpu(target.url) : undefined;
  const rates = await throughputs(ours, theirs, sizes, server?.read).finally(() => server?.close());
  const bytes = await freshBytes(ours, theirs, -2_000_000);
  const wire = theirs && target.url ? await wireBytes(target.url, ours, theirs, -3_000_000) : undefined;
  const contention = await oursContention(ours, sizes);
  const storeReport: StoreReport = { store: name, where: target.where, ...lat.ours, bytes: bytes.ours, throughput: rates.ours, contention, scale: [] };
  report.stores.push(storeReport);
  if (theirs && lat.theirs) {
    const contentionTheirs = await theirsContention(theirs, sizes, 1);
    await theirs.close();
    const noContext = await openTheirs({ redisUrl: urls.redis, keyPrefix: `once-bench-pt-${process.pid}-nc` });
    const contentionNoContext = await theirsContention(noContext, sizes, 2);
    await noContext.close();
    report.powertools = {
      library: '@aws-lambda-powertools/idempotency (makeIdempotent, CachePersistenceLayer on @redis/client)',
      ...lat.theirs,
      bytes: bytes.theirs ?? { written: 0, compared: 0 },
      wire,
      throughput: rates.theirs,
      comparison: [...lat.comparison, ...rates.comparison],
      contention: contentionTheirs,
      contentionNoContext,
    };
  }
}

/** Our crash handling on a store other than Redis, on a target of its own. */
async function crashOnAnotherStore(name: StoreName, report: BenchReport, { urls, options, sizes }: BenchRun): Promise<void> {
  const target = await openTarget(name, urls);
  try {
    options.progress(`${name}: crash mid-call`);
    report.crash.push(...(await ourCrash(target.store, target.url!, sizes.crashLeaseMs)));
  } finally {
    await target.dispose();
  }
}

/** The scale rows of every store measured. */
async function measureScale(report: BenchReport, { urls, options, sizes }: BenchRun): Promise<void> {
  for (const storeReport of report.stores) {
    // A target of its own, so the rows count only the filler and their own samples.
    const target = await openTarget(storeReport.store, urls);
    try {
      options.progress(`${storeReport.store}: scale`);
      // A Map lookup does not depend on its size, and filling one through Keyv costs ~15 s per million.
      const sizesHere = storeReport.store === 'memory' ? options.scale.filter((n) => n <= MEMORY_SCALE_CAP) : options.scale;
      if (sizesHere.length < options.scale.length) {
        report.notes.push(`memory: scale rows above ${MEMORY_SCALE_CAP.toLocaleString('en')} records are not run (a Map lookup does not grow with size; filling one through Keyv takes ~15 s per million).`);
      }
      storeReport.scale = await scaleRows(target, sizes, sizesHere, options.progress);
    } finally {
      await target.dispose();
    }
  }
}

/** The run's duration and load, the targets met or not, and the notes that explain the figures. */
function conclude(report: BenchReport, started: number): void {
  report.durationMs = Math.round(performance.now() - started);
  report.machine.loadAfter = loadavg()[0];
  if (Math.max(report.machine.loadBefore, report.machine.loadAfter) > report.machine.cpus) {
    report.notes.push(
      `The machine was busy (1-minute load ${report.machine.loadBefore.toFixed(1)} before, ${report.machine.loadAfter.toFixed(1)} after, on ${report.machine.cpus} cores): other processes shared the CPUs, so tails (p99) and throughput are noisy; ours/theirs ratios, measured alternating, are the steadier figures.`,
    );
  }
  report.targets = targets(report);
  report.notes.push(
    'Round trips are calls to the store per run (one SQL statement, one Redis script or command each); for memory they are calls, not network trips.',
    'Scale rows: filler records are settled ledger records of about 300 bytes with random keys, inserted in bulk outside the timed part; the samples add a few hundred more.',
    'Powertools runs with a Lambda context registered (remaining time 30 s = its in-progress expiry) unless a row says otherwise; useLocalCache is off (its default).',
  );
}

function targets(report: BenchReport): Goal[] {
  const out: Goal[] = [];
  for (const s of report.stores) {
    out.push({
      target: `${s.store}: fresh run <= 2 store round trips, replay 1`,
      measured: `fresh ${s.fresh.roundTrips}, replay ${s.replay.roundTrips}`,
      met: s.fresh.roundTrips <= 2 && s.replay.roundTrips <= 1,
    });
    out.push({
      target: `${s.store}: 100 concurrent duplicates execute once`,
      measured: `${s.contention.executions} execution(s)`,
      met: s.contention.executions === 1,
    });
  }
  const limit: Partial<Record<StoreName, number>> = { sqlite: 0.3, postgres: 1 };
  for (const [store, ms] of Object.entries(limit) as Array<[StoreName, number]>) {
    const s = report.stores.find((r) => r.store === store);
    out.push({
      target: `${store}: replay p50 <= ${ms} ms`,
      measured: s ? `${s.replay.p50} ms` : 'not measured',
      met: s ? s.replay.p50 <= ms : null,
    });
  }
  // Beside Powertools: judged on the median of the paired ratios, never on one window.
  const wanted: Array<[string, number]> = [
    ...FULL.concurrency.map((c): [string, number] => [`fresh ops/s c=${c}`, 1.1]),
    ['fresh p50', 1.1],
    ['replay p50', 1.5],
  ];
  for (const [metric, at] of wanted) {
    const c = report.powertools?.comparison.find((x) => x.metric === metric);
    out.push({
      target: `redis: ${metric} at least x${at} Powertools on the same Redis (median paired ratio)`,
      measured: c ? `x${c.advantage.median} (IQR ${c.advantage.q1}-${c.advantage.q3}, ${c.pairs} pairs; ${c.ahead === 'unclear' ? 'neither clearly ahead' : `${c.ahead} ahead`})` : 'not measured',
      met: c ? c.advantage.median >= at : null,
    });
  }
  const e2e = report.e2e;
  out.push({
    target: `MCP stdio: create_checkout replay within x${E2E_LIMIT} of the no-op tool (p50, median paired ratio)`,
    measured: e2e ? `x${e2e.ratioP50} (IQR ${e2e.ratio.q1}-${e2e.ratio.q3}; ${e2e.replay.p50} vs ${e2e.noop.p50} ms)` : 'not measured',
    met: e2e ? e2e.ratioP50 <= E2E_LIMIT : null,
  });
  out.push({
    target: 'whole run under 3 minutes',
    measured: `${Math.round(report.durationMs / 1000)} s`,
    met: report.durationMs < 180_000,
  });
  return out;
}
