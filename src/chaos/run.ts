// One chaos run: the sandbox merchant behind the fault proxy, MCP servers (real processes) with the acp backend
// (or the ucp backend, over REST or MCP) in front of it on one ledger store, and many agents buying through
// faults, crashes and outages. At the end the merchant's own records are judged against the ledger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveMerchant, type MerchantServer } from '../backends/sandbox/http.js';
import { mulberry32, parseFaults } from '../backends/sandbox/faults.js';
import { openMemoryStore } from '../store/memory.js';
import { parseStoreUrl } from '../config/store-url.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { runTask, type AgentOptions, type Interleaving, type TaskOutcome, type TaskPlan } from './agent.js';
import { startFaultProxy, type FaultProxy, type HoldRule, type ProxyAnswer, type ProxyFault, type ProxyRule } from './fault-proxy.js';
import { protocolWire, type ChaosProtocol, type ProtocolWire } from './protocols.js';
import { ServerPool } from './server-pool.js';
import { startStoreCut, type StoreCut } from './store-cut.js';
import { judge, type Verdict } from './verdict.js';
import { checkOrderEvents, ORDER_EVENT_FAULTS, startOrderReceiver, type OrderEventsCheck, type OrderReceiver } from './order-events.js';
import { merchantIdentity } from '../backends/acp/acp-config.js';

export interface ChaosOptions {
  tasks: number;
  processes: number;
  /** Ledger store URL; undefined → a fresh SQLite file. */
  store?: string;
  seed: number;
  concurrency: number;
  /** Chance that a request to the merchant meets a network fault. */
  faultRate: number;
  /** The built server to run (a different build can be judged by the same checker). */
  bin: string;
  /** Spend cap the servers run with (ONCE_MAX_ORDER_AMOUNT); the verdict counts any charge above it. */
  cap?: number;
  /** What the servers speak to the merchant: ACP (default), UCP over REST, UCP over MCP. */
  protocol?: ChaosProtocol;
  /** Issue 18: the merchant also sends signed order events, with faults, to a server in HTTP mode on the store. */
  orderEvents?: boolean;
  /** Progress on stderr. */
  onProgress?: (done: number, total: number, summary: { faults: number; reinvocations: number }) => void;
}

export type FaultKind = ProxyFault | 'partition' | 'server_sigkill' | 'store_outage';

export interface ChaosSummary {
  protocol: ChaosProtocol;
  tasks: number;
  processes: number;
  store: string;
  seed: number;
  faults: Record<FaultKind, number>;
  /** UCP: completes the merchant answered complete_in_progress (read back by the servers, never resent). */
  completeInProgress: number;
  reinvocations: number;
  parallelDuplicates: number;
  completed: number;
  refused: number;
  gaveUp: number;
  /** Why tasks stopped short (the first 20), so a refusal is explained, not just counted. */
  stopped: Array<{ taskId: string; status: string; detail?: string }>;
  recoveredAfterStorm: number;
  sessions: number;
  orders: number;
  charges: number;
  duplicates: number;
  lostSuccesses: number;
  wrongAnswers: number;
  genuineReexecutions: number;
  /** Interleavings played: payment switched during an in-flight complete, update races, store cut at settle. */
  interleavings: Record<Interleaving | 'settle_cut' | 'settle_cut_past_retry', number>;
  /** Requests held in the network for them: let go by the agent's next call (landing first), or after 6 s. */
  held: { released: number; expired: number };
  /** Per checkout (R13): charged while its agent was told the payment failed or nothing was charged. */
  toldFailedButCharged: number;
  /** Per checkout (R14): charged a cart or total other than the last one its agent was shown. */
  chargedNotShown: number;
  /** Charges above the cap; null when the run has no cap. */
  aboveCap: number | null;
  cap: number | null;
  wallSeconds: number;
  toolLatencyMs: { p50: number; p99: number; calls: number };
  /** With --order-events: what was sent and what the ledger made of it. */
  orderEvents?: OrderEventsCheck;
  verdict: Verdict;
}

const PHYSICAL_ITEMS = ['sku_tshirt', 'sku_mug', 'sku_hoodie', 'sku_cap', 'sku_sticker_pack', 'sku_notebook', 'sku_socks', 'sku_tote', 'sku_poster'];
const TOKEN = 'chaos-merchant-token';

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] * 100) / 100;
}

/** 1 task in 10 switches payment during an in-flight complete, 1 in 10 races its updates, 1 in 10 pays while its update is in flight. */
const INTERLEAVING_SHARE = 0.1;
/** On PostgreSQL, 1 task in 25 has the store cut right after the merchant answers its complete. */
const SETTLE_CUT_SHARE = 0.04;
/**
 * Most settle cuts are short (the settle retries through them). The first of a run, and 1 in 5 after it, outlast
 * the settle's 5 s of retries; the first comes early (1 task in 25), so the recovery it causes (a lease to expire)
 * overlaps the rest of a bounded run instead of lengthening it.
 */
export const SETTLE_CUT_MS = { short: 1_500, long: 6_000 };
/**
 * How the merchant retries an order event the receiver refused: for about 90 s, as real merchants go on for hours.
 * On PostgreSQL the run cuts the store for 1.5 s or 6 s after 1 complete in 25, and every 90 tasks, so cuts can
 * follow one another for tens of seconds; a merchant giving up within them (8 attempts, 11 s, before) left
 * orders off the ledger that the receiver had rightly refused with 500, and the run failed for the harness.
 */
export const ORDER_EVENT_DELIVERY = { backoffMs: 100, maxAttempts: 24 };
const LONG_CUT_SHARE = 0.2;

function planTask(runId: string, index: number, random: () => number, twists: () => number, postgres: boolean): TaskPlan {
  const lines = 1 + Math.floor(random() * 3);
  const items = Array.from({ length: lines }, () => ({
    id: PHYSICAL_ITEMS[Math.floor(random() * PHYSICAL_ITEMS.length)],
    quantity: 1 + Math.floor(random() * 3),
  }));
  const plan: TaskPlan = { taskId: `${runId}-${index}`, items, declineFirst: random() < 0.1 };
  // A separate stream, so a seed plans the same carts, declines and faults as before interleavings existed.
  const roll = twists();
  if (roll < INTERLEAVING_SHARE) plan.interleaving = 'payment_switch';
  else if (roll < 2 * INTERLEAVING_SHARE) plan.interleaving = 'update_race';
  else if (roll < 3 * INTERLEAVING_SHARE) plan.interleaving = 'update_moved_on';
  if (postgres && twists() < SETTLE_CUT_SHARE) plan.settleCut = true;
  return plan;
}

/** The proxy's fault counts; the MCP binding's -32000 internal error only where the protocol meets it. */
function faultCounts(counted: Record<ProxyFault | 'partition', number>, kinds: readonly ProxyFault[]): Partial<Record<ProxyFault | 'partition', number>> {
  const { rpc_error: rpcErrors, ...rest } = counted;
  return kinds.includes('rpc_error') ? { ...rest, rpc_error: rpcErrors } : rest;
}

/** Every fault injected, whatever its kind. */
export function faultTotal(faults: Record<string, number>): number {
  return Object.values(faults).reduce((sum, n) => sum + n, 0);
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const started = performance.now();
  const random = mulberry32(options.seed);
  const runId = `chaos${options.seed}x${Date.now().toString(36)}`;
  const principal = runId;
  const scratch = mkdtempSync(join(tmpdir(), 'once-chaos-'));
  const ledgerUrl = options.store ?? `sqlite://${join(scratch, 'ledger.db')}`;
  const isPostgres = parseStoreUrl(ledgerUrl).kind === 'postgres';

  const wire = protocolWire(options.protocol ?? 'acp');
  const merchantStore = openMemoryStore();
  const merchant = await startChaosMerchant(merchantStore, wire, options);
  const schedule = new FaultSchedule(options, wire);
  const proxy = await startFaultProxy({
    target: merchant.url,
    keepLog: false,
    onAnswer: (answer) => schedule.seeAnswer(answer),
    decide: (method) => schedule.decide(method),
  });
  schedule.storeCut = isPostgres ? await startStoreCut(ledgerUrl) : undefined;
  const serverEnv = chaosServerEnv(options, wire, { proxyUrl: proxy.url, storeUrl: schedule.storeCut?.url ?? ledgerUrl, principal, home: scratch });
  const pool = new ServerPool(
    { bin: options.bin, env: serverEnv },
    options.processes,
    mulberry32(options.seed ^ 0xbeef),
  );
  const disruptions = new Disruptions(options.tasks, pool, proxy, schedule.storeCut);
  // One count for the progress line and the summary: a partition is one fault, however many requests it refused.
  const allFaults = (): Record<FaultKind, number> => ({ ...(faultCounts(proxy.counts.faults, wire.faults) as Record<ProxyFault, number>), ...disruptions.counts });
  const held = { released: 0, expired: 0 };
  const latencies: number[] = [];

  let receiver: OrderReceiver | undefined;
  try {
    if (options.orderEvents) receiver = await receiveOrderEvents(options.bin, wire, serverEnv, merchant);
    await pool.start();
    const twists = mulberry32(options.seed ^ 0x7a157);
    const plans = Array.from({ length: options.tasks }, (_, i) => planTask(runId, i, random, twists, isPostgres));
    const interleave = interleaveOn(proxy, held, wire, schedule);
    const agent: AgentOptions = { pool, random: mulberry32(options.seed ^ 0xa9e7), parallelChance: 0.1, maxTries: 25, callTimeoutMs: 30_000, latencies, interleave };
    const outcomes = await runAgentsThroughStorm(plans, agent, options, disruptions, allFaults);
    await disruptions.settled();
    const settleCutCount = await schedule.settleCutsDone();

    // The storm passes: agents that gave up come back once the network is calm, as a person would ask again
    // (plainly this time: no interleaving), and what they lived before still counts.
    schedule.storm = false;
    const recovered = await askAgainCalmly(plans, outcomes, agent);
    if (receiver) await shipAndDeliverSomeOrders(merchant, merchantStore);
    const { verdict, orderEvents } = await judgeRun(merchant, merchantStore, { ledgerUrl, outcomes, principal, options, serverEnv, receiver });
    return summarize(options, {
      wire,
      ledgerUrl,
      faults: allFaults(),
      completeInProgress: schedule.completeInProgress,
      outcomes,
      recovered,
      verdict,
      settleCuts: { count: settleCutCount, long: schedule.longCuts },
      held,
      latencies,
      started,
      orderEvents,
    });
  } finally {
    await receiver?.stop();
    await pool.close();
    await proxy.close();
    await merchant.close();
    await schedule.storeCut?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** How agents play interleavings: holds at the proxy (each release counted, then told to the task), and settle cuts. */
function interleaveOn(proxy: FaultProxy, held: { released: number; expired: number }, wire: ProtocolWire, schedule: FaultSchedule) {
  return {
    hold: (rule: HoldRule) =>
      proxy.hold({
        ...rule,
        onRelease: (why) => {
          held[why] += 1;
          rule.onRelease?.(why);
        },
      }),
    wire,
    created(plan: TaskPlan, checkoutId: string) {
      if (plan.settleCut) schedule.cutStoreAfterComplete(checkoutId);
    },
  };
}

/** The sandbox merchant on a free port, with the protocol's own faults and, when asked, order events. */
function startChaosMerchant(merchantStore: Store, wire: ProtocolWire, options: ChaosOptions): Promise<MerchantServer> {
  return serveMerchant({
    port: 0,
    store: merchantStore,
    tokens: { [TOKEN]: 'chaos' },
    ...(wire.merchantFaults ? { faults: parseFaults(wire.merchantFaults), rng: mulberry32(options.seed ^ 0x1c9), completeDelayMs: 1_500 } : {}),
    // The receiver's address is known only once it runs (after the proxy): set by receiveOrderEvents.
    ...(options.orderEvents ? { orderEvents: { url: '', secret: '', faults: ORDER_EVENT_FAULTS, rng: mulberry32(options.seed ^ 0x0e7), ...ORDER_EVENT_DELIVERY } } : {}),
  });
}

/**
 * What the proxy does to the run's traffic: a seeded network fault per request while the storm lasts, and a
 * store cut right after the merchant answers the complete of a checkout planned for one.
 */
class FaultSchedule {
  /** While true, requests meet network faults at the run's rate. */
  storm = true;
  /** UCP: completes the merchant answered complete_in_progress. */
  completeInProgress = 0;
  /** PostgreSQL only: the lever that cuts the ledger's store. */
  storeCut: StoreCut | undefined;
  /** Settle cuts that outlast the settle's retries. */
  longCuts = 0;
  // Checkouts whose complete answer cuts the store, right between the merchant's answer and the ledger's settle.
  private readonly cutAfterComplete = new Set<string>();
  private readonly settleCuts: Array<Promise<void>> = [];
  private readonly faultRandom: () => number;
  private readonly cutRandom: () => number;

  constructor(
    private readonly options: ChaosOptions,
    private readonly wire: ProtocolWire,
  ) {
    this.faultRandom = mulberry32(options.seed ^ 0x5eed);
    this.cutRandom = mulberry32(options.seed ^ 0xc075);
  }

  cutStoreAfterComplete(checkoutId: string): void {
    this.cutAfterComplete.add(checkoutId);
  }

  /** The proxy's `onAnswer`: counts complete_in_progress, and cuts the store after a planned complete. */
  seeAnswer(answer: ProxyAnswer): void {
    if (this.wire.inProgress(answer)) this.completeInProgress += 1;
    if (!this.storeCut || this.cutAfterComplete.size === 0) return;
    const id = this.wire.completedBy(answer);
    if (!id || !this.cutAfterComplete.delete(id)) return;
    const long = this.settleCuts.length === 0 || this.cutRandom() < LONG_CUT_SHARE;
    if (long) this.longCuts += 1;
    this.settleCuts.push(this.storeCut.outage(long ? SETTLE_CUT_MS.long : SETTLE_CUT_MS.short));
  }

  /** The proxy's `decide`: the fault this request meets, if any. */
  decide(method: string): Omit<ProxyRule, 'path'> | undefined {
    // MCP's own plumbing on ACP's binding (initialize, notifications) is not an ACP operation: faults are for those.
    if (!this.storm || method === 'MCP') return undefined;
    // Reads (reconciliation) meet faults less often, so a storm still lets the truth through now and then.
    const rate = method === 'GET' ? this.options.faultRate / 2 : this.options.faultRate;
    if (this.faultRandom() >= rate) return undefined;
    const fault = this.wire.faults[Math.floor(this.faultRandom() * this.wire.faults.length)];
    return { fault, delayMs: 1_500, status: this.faultRandom() < 0.5 ? 500 : 503, retryAfterSeconds: 1 };
  }

  /** Aims no more settle cuts and waits for those under way; how many there were. */
  async settleCutsDone(): Promise<number> {
    const count = this.settleCuts.length;
    this.cutAfterComplete.clear();
    await Promise.all(this.settleCuts);
    return count;
  }
}

/** Crashes, partitions and store outages, spread by task count: at least one of each per 90 tasks. */
class Disruptions {
  readonly counts = { partition: 0, server_sigkill: 0, store_outage: 0 };
  private readonly pending: Array<Promise<void>> = [];
  private readonly every: number;

  constructor(
    tasks: number,
    private readonly pool: ServerPool,
    private readonly proxy: FaultProxy,
    private readonly storeCut: StoreCut | undefined,
  ) {
    this.every = Math.max(1, Math.min(90, Math.floor(tasks / 5)));
  }

  /** Before task `index`: a server SIGKILL, a 250 ms partition or a 300 ms store outage, when its turn comes. */
  before(index: number): void {
    const every = this.every;
    if (index === 0) return;
    if (index % every === 0) this.pending.push(this.pool.killOne().then(() => void (this.counts.server_sigkill += 1)));
    if (index % every === Math.floor(every / 3)) {
      this.counts.partition += 1;
      this.proxy.partition(true);
      this.pending.push(new Promise((resolve) => setTimeout(() => resolve(this.proxy.partition(false)), 250)));
    }
    if (this.storeCut && index % every === Math.floor((2 * every) / 3)) {
      this.pending.push(this.storeCut.outage(300).then(() => void (this.counts.store_outage += 1)));
    }
  }

  /** Waits for every disruption started to be over. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }
}

/** The servers' environment: the ledger store, the backend pointed at the proxy, and the run's principal and cap. */
function chaosServerEnv(
  options: ChaosOptions,
  wire: ProtocolWire,
  at: { proxyUrl: string; storeUrl: string; principal: string; home: string },
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? at.home,
    ONCE_STORE: at.storeUrl,
    ...wire.serverEnv(at.proxyUrl, TOKEN),
    ONCE_PRINCIPAL: at.principal,
    ONCE_LOG: 'warn',
    // Agents here retry far faster than any person's agent would; the limit is not what is under test.
    ONCE_RATE_LIMIT: 'off',
    ...(options.cap !== undefined ? { ONCE_MAX_ORDER_AMOUNT: String(options.cap) } : {}),
  };
}

/** Starts a server in HTTP mode that receives the merchant's order events, and points the merchant's sender at it. */
async function receiveOrderEvents(bin: string, wire: ProtocolWire, serverEnv: Record<string, string>, merchant: MerchantServer): Promise<OrderReceiver> {
  if (wire.protocol !== 'acp' && wire.protocol !== 'acp-mcp') throw new Error('--order-events needs --protocol acp (ACP order events)');
  const receiver = await startOrderReceiver(bin, serverEnv);
  merchant.orders.sender!.setDestination(receiver.url, receiver.secret);
  return receiver;
}

/** Every task through the storm, `options.concurrency` at a time: a disruption before each, progress after. */
async function runAgentsThroughStorm(
  plans: TaskPlan[],
  agent: AgentOptions,
  options: ChaosOptions,
  disruptions: Disruptions,
  allFaults: () => Record<FaultKind, number>,
): Promise<TaskOutcome[]> {
  const outcomes: TaskOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const index = next++;
      disruptions.before(index);
      outcomes[index] = await runTask(plans[index], agent);
      options.onProgress?.(outcomes.filter(Boolean).length, plans.length, {
        faults: faultTotal(allFaults()),
        reinvocations: outcomes.reduce((sum, o) => sum + (o?.reinvocations ?? 0), 0),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, plans.length) }, worker));
  return outcomes;
}

/** Runs again, plainly and one by one, each task that gave up; its outcome keeps what it lived before. How many completed. */
async function askAgainCalmly(plans: TaskPlan[], outcomes: TaskOutcome[], agent: AgentOptions): Promise<number> {
  let recovered = 0;
  for (let i = 0; i < outcomes.length; i++) {
    if (outcomes[i].status !== 'gave_up') continue;
    const { interleaving: _played, settleCut: _cut, ...plain } = plans[i];
    const again = await runTask(plain, { ...agent, parallelChance: 0, interleave: undefined });
    again.reinvocations += outcomes[i].reinvocations;
    again.parallelDuplicates += outcomes[i].parallelDuplicates;
    again.log = [...outcomes[i].log, ...again.log];
    again.played = outcomes[i].played;
    outcomes[i] = again;
    if (again.status === 'completed') recovered += 1;
  }
  return recovered;
}

/** After the purchase: 1 order in 3 ships, then is delivered (a reordered shipment then arrives late). */
async function shipAndDeliverSomeOrders(merchant: MerchantServer, merchantStore: Store): Promise<void> {
  let n = 0;
  for await (const [, stored] of merchantStore.entries<{ order: { id: string } }>('sandbox:orderlife:')) {
    if (n++ % 3 !== 0) continue;
    await merchant.orders.advance(stored.order.id, 'ship');
    await merchant.orders.advance(stored.order.id, 'deliver');
  }
  await merchant.orders.idle();
}

/** The merchant's records judged against the ledger; with order events, what the ledger made of them too. */
async function judgeRun(
  merchant: MerchantServer,
  merchantStore: Store,
  run: { ledgerUrl: string; outcomes: TaskOutcome[]; principal: string; options: ChaosOptions; serverEnv: Record<string, string>; receiver?: OrderReceiver },
): Promise<{ verdict: Verdict; orderEvents?: OrderEventsCheck }> {
  const ledgerStore = await openStore(parseStoreUrl(run.ledgerUrl));
  try {
    const verdict = await judge(merchantStore, ledgerStore, run.outcomes, run.principal, { cap: run.options.cap });
    let orderEvents: OrderEventsCheck | undefined;
    if (run.receiver) {
      const { events, deliveries, duplicates, retries, reordered, given_up: givenUp } = merchant.orders.sender!.stats;
      const endpoint = run.serverEnv.ACP_BASE_URL ?? run.serverEnv.ACP_MCP_URL;
      orderEvents = await checkOrderEvents(merchantStore, ledgerStore, `acp:${merchantIdentity(new URL(endpoint))}`, { events, deliveries, duplicates, retries, reordered, givenUp });
    }
    return { verdict, orderEvents };
  } finally {
    await ledgerStore.close();
  }
}

/** What a run found, counted. */
function summarize(
  options: ChaosOptions,
  run: {
    wire: ProtocolWire;
    ledgerUrl: string;
    faults: Record<FaultKind, number>;
    completeInProgress: number;
    outcomes: TaskOutcome[];
    recovered: number;
    verdict: Verdict;
    settleCuts: { count: number; long: number };
    held: { released: number; expired: number };
    latencies: number[];
    started: number;
    orderEvents?: OrderEventsCheck;
  },
): ChaosSummary {
  const { outcomes, verdict, orderEvents } = run;
  const sorted = [...run.latencies].sort((a, b) => a - b);
  return {
    protocol: run.wire.protocol,
    tasks: options.tasks,
    processes: options.processes,
    store: parseStoreUrl(run.ledgerUrl).kind,
    seed: options.seed,
    faults: run.faults,
    completeInProgress: run.completeInProgress,
    reinvocations: outcomes.reduce((sum, o) => sum + o.reinvocations, 0),
    parallelDuplicates: outcomes.reduce((sum, o) => sum + o.parallelDuplicates, 0),
    completed: outcomes.filter((o) => o.status === 'completed').length,
    refused: outcomes.filter((o) => o.status === 'refused').length,
    gaveUp: outcomes.filter((o) => o.status === 'gave_up').length,
    stopped: outcomes.filter((o) => o.status !== 'completed').slice(0, 20).map(({ taskId, status, detail }) => ({ taskId, status, detail })),
    recoveredAfterStorm: run.recovered,
    sessions: verdict.sessions,
    orders: verdict.orders,
    charges: verdict.charges,
    duplicates: verdict.duplicates.length,
    lostSuccesses: verdict.lostSuccesses.length,
    wrongAnswers: verdict.wrongAnswers.length,
    genuineReexecutions: verdict.genuineReexecutions,
    interleavings: {
      payment_switch: outcomes.filter((o) => o.played === 'payment_switch').length,
      update_race: outcomes.filter((o) => o.played === 'update_race').length,
      update_moved_on: outcomes.filter((o) => o.played === 'update_moved_on').length,
      settle_cut: run.settleCuts.count,
      settle_cut_past_retry: run.settleCuts.long,
    },
    held: { ...run.held },
    toldFailedButCharged: verdict.toldFailedButCharged.length,
    chargedNotShown: verdict.chargedNotShown.length,
    aboveCap: options.cap !== undefined ? verdict.aboveCap.length : null,
    cap: options.cap ?? null,
    wallSeconds: Math.round((performance.now() - run.started) / 100) / 10,
    toolLatencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), calls: sorted.length },
    ...(orderEvents ? { orderEvents } : {}),
    verdict,
  };
}
