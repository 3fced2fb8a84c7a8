// One chaos run: the sandbox merchant behind the fault proxy, MCP servers (real processes) with the acp backend
// (or the ucp backend, over REST or MCP) in front of it on one ledger store, and many agents buying through
// faults, crashes and outages. At the end the merchant's own records are judged against the ledger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveMerchant } from '../backends/sandbox/http.js';
import { mulberry32, parseFaults } from '../backends/sandbox/faults.js';
import { openMemoryStore } from '../store/memory.js';
import { parseStoreUrl } from '../config/store-url.js';
import { openStore } from '../store/open.js';
import { runTask, type Interleaving, type TaskOutcome, type TaskPlan } from './agent.js';
import { startFaultProxy, type HoldRule, type ProxyFault } from './fault-proxy.js';
import { protocolWire, type ChaosProtocol } from './protocols.js';
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

/** 1 task in 10 switches payment during an in-flight complete, 1 in 10 races its updates. */
const INTERLEAVING_SHARE = 0.1;
/** On PostgreSQL, 1 task in 25 has the store cut right after the merchant answers its complete. */
const SETTLE_CUT_SHARE = 0.04;
/**
 * Most settle cuts are short (the settle retries through them). The first of a run, and 1 in 5 after it, outlast
 * the settle's 5 s of retries; the first comes early (1 task in 25), so the recovery it causes (a lease to expire)
 * overlaps the rest of a bounded run instead of lengthening it.
 */
const SETTLE_CUT_MS = { short: 1_500, long: 6_000 };
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
  const merchant = await serveMerchant({
    port: 0,
    store: merchantStore,
    tokens: { [TOKEN]: 'chaos' },
    ...(wire.merchantFaults ? { faults: parseFaults(wire.merchantFaults), rng: mulberry32(options.seed ^ 0x1c9), completeDelayMs: 1_500 } : {}),
    // The receiver's address is known only once it runs (after the proxy): set below.
    ...(options.orderEvents ? { orderEvents: { url: '', secret: '', faults: ORDER_EVENT_FAULTS, rng: mulberry32(options.seed ^ 0x0e7), backoffMs: 100 } } : {}),
  });
  let completeInProgress = 0;
  let storm = true;
  const faultRandom = mulberry32(options.seed ^ 0x5eed);
  const cutRandom = mulberry32(options.seed ^ 0xc075);
  // Checkouts whose complete answer cuts the store, right between the merchant's answer and the ledger's settle.
  const cutAfterComplete = new Set<string>();
  const settleCuts: Array<Promise<void>> = [];
  let longCuts = 0;
  let storeCut: StoreCut | undefined;
  const proxy = await startFaultProxy({
    target: merchant.url,
    keepLog: false,
    onAnswer(answer) {
      if (wire.inProgress(answer)) completeInProgress += 1;
      if (!storeCut || cutAfterComplete.size === 0) return;
      const id = wire.completedBy(answer);
      if (!id || !cutAfterComplete.delete(id)) return;
      const long = settleCuts.length === 0 || cutRandom() < LONG_CUT_SHARE;
      if (long) longCuts += 1;
      settleCuts.push(storeCut.outage(long ? SETTLE_CUT_MS.long : SETTLE_CUT_MS.short));
    },
    decide(method) {
      // MCP's own plumbing on ACP's binding (initialize, notifications) is not an ACP operation: faults are for those.
      if (!storm || method === 'MCP') return undefined;
      // Reads (reconciliation) meet faults less often, so a storm still lets the truth through now and then.
      const rate = method === 'GET' ? options.faultRate / 2 : options.faultRate;
      if (faultRandom() >= rate) return undefined;
      const fault = wire.faults[Math.floor(faultRandom() * wire.faults.length)];
      return { fault, delayMs: 1_500, status: faultRandom() < 0.5 ? 500 : 503, retryAfterSeconds: 1 };
    },
  });
  storeCut = isPostgres ? await startStoreCut(ledgerUrl) : undefined;
  const serverEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? scratch,
    ONCE_STORE: storeCut?.url ?? ledgerUrl,
    ...wire.serverEnv(proxy.url, TOKEN),
    ONCE_PRINCIPAL: principal,
    ONCE_LOG: 'warn',
    // Agents here retry far faster than any person's agent would; the limit is not what is under test.
    ONCE_RATE_LIMIT: 'off',
    ...(options.cap !== undefined ? { ONCE_MAX_ORDER_AMOUNT: String(options.cap) } : {}),
  };
  const pool = new ServerPool(
    { bin: options.bin, env: serverEnv },
    options.processes,
    mulberry32(options.seed ^ 0xbeef),
  );
  const counts = { partition: 0, server_sigkill: 0, store_outage: 0 };
  // One count for the progress line and the summary: a partition is one fault, however many requests it refused.
  const allFaults = (): Record<FaultKind, number> => ({ ...(faultCounts(proxy.counts.faults, wire.faults) as Record<ProxyFault, number>), ...counts });
  const held = { released: 0, expired: 0 };
  const latencies: number[] = [];
  const outcomes: TaskOutcome[] = [];
  const disruptions: Array<Promise<void>> = [];
  // Crashes, partitions and store outages are spread by task count: at least one of each per 90 tasks.
  const every = Math.max(1, Math.min(90, Math.floor(options.tasks / 5)));

  let receiver: OrderReceiver | undefined;
  try {
    if (options.orderEvents) {
      if (wire.protocol !== 'acp' && wire.protocol !== 'acp-mcp') throw new Error('--order-events needs --protocol acp (ACP order events)');
      receiver = await startOrderReceiver(options.bin, serverEnv);
      merchant.orders.sender!.setDestination(receiver.url, receiver.secret);
    }
    await pool.start();
    const twists = mulberry32(options.seed ^ 0x7a157);
    const plans = Array.from({ length: options.tasks }, (_, i) => planTask(runId, i, random, twists, isPostgres));
    const agentRandom = mulberry32(options.seed ^ 0xa9e7);
    const interleave = {
      hold: (rule: HoldRule) => proxy.hold({ ...rule, onRelease: (why) => void (held[why] += 1) }),
      wire,
      created(plan: TaskPlan, checkoutId: string) {
        if (plan.settleCut) cutAfterComplete.add(checkoutId);
      },
    };
    const agent = { pool, random: agentRandom, parallelChance: 0.1, maxTries: 25, callTimeoutMs: 30_000, latencies, interleave };
    let next = 0;
    const disrupt = (index: number) => {
      if (index === 0) return;
      if (index % every === 0) disruptions.push(pool.killOne().then(() => void (counts.server_sigkill += 1)));
      if (index % every === Math.floor(every / 3)) {
        counts.partition += 1;
        proxy.partition(true);
        disruptions.push(new Promise((resolve) => setTimeout(() => resolve(proxy.partition(false)), 250)));
      }
      if (storeCut && index % every === Math.floor((2 * every) / 3)) {
        disruptions.push(storeCut.outage(300).then(() => void (counts.store_outage += 1)));
      }
    };
    const worker = async () => {
      while (next < plans.length) {
        const index = next++;
        disrupt(index);
        outcomes[index] = await runTask(plans[index], agent);
        options.onProgress?.(outcomes.filter(Boolean).length, plans.length, {
          faults: faultTotal(allFaults()),
          reinvocations: outcomes.reduce((sum, o) => sum + (o?.reinvocations ?? 0), 0),
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, plans.length) }, worker));
    await Promise.all(disruptions);
    const settleCutCount = settleCuts.length;
    cutAfterComplete.clear();
    await Promise.all(settleCuts);

    // The storm passes: agents that gave up come back once the network is calm, as a person would ask again
    // (plainly this time: no interleaving), and what they lived before still counts.
    storm = false;
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

    if (receiver) {
      // After the purchase: 1 order in 3 ships, then is delivered (a reordered shipment then arrives late).
      let n = 0;
      for await (const [, stored] of merchantStore.entries<{ order: { id: string } }>('sandbox:orderlife:')) {
        if (n++ % 3 !== 0) continue;
        await merchant.orders.advance(stored.order.id, 'ship');
        await merchant.orders.advance(stored.order.id, 'deliver');
      }
      await merchant.orders.idle();
    }
    const ledgerStore = await openStore(parseStoreUrl(ledgerUrl));
    let verdict: Verdict;
    let orderEvents: OrderEventsCheck | undefined;
    try {
      verdict = await judge(merchantStore, ledgerStore, outcomes, principal, { cap: options.cap });
      if (receiver) {
        const { events, deliveries, duplicates, retries, reordered } = merchant.orders.sender!.stats;
        const endpoint = serverEnv.ACP_BASE_URL ?? serverEnv.ACP_MCP_URL;
        orderEvents = await checkOrderEvents(merchantStore, ledgerStore, `acp:${merchantIdentity(new URL(endpoint))}`, { events, deliveries, duplicates, retries, reordered });
      }
    } finally {
      await ledgerStore.close();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      protocol: wire.protocol,
      tasks: options.tasks,
      processes: options.processes,
      store: parseStoreUrl(ledgerUrl).kind,
      seed: options.seed,
      faults: allFaults(),
      completeInProgress,
      reinvocations: outcomes.reduce((sum, o) => sum + o.reinvocations, 0),
      parallelDuplicates: outcomes.reduce((sum, o) => sum + o.parallelDuplicates, 0),
      completed: outcomes.filter((o) => o.status === 'completed').length,
      refused: outcomes.filter((o) => o.status === 'refused').length,
      gaveUp: outcomes.filter((o) => o.status === 'gave_up').length,
      stopped: outcomes.filter((o) => o.status !== 'completed').slice(0, 20).map(({ taskId, status, detail }) => ({ taskId, status, detail })),
      recoveredAfterStorm: recovered,
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
        settle_cut: settleCutCount,
        settle_cut_past_retry: longCuts,
      },
      held: { ...held },
      toldFailedButCharged: verdict.toldFailedButCharged.length,
      chargedNotShown: verdict.chargedNotShown.length,
      aboveCap: options.cap !== undefined ? verdict.aboveCap.length : null,
      cap: options.cap ?? null,
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
      toolLatencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), calls: sorted.length },
      ...(orderEvents ? { orderEvents } : {}),
      verdict,
    };
  } finally {
    await receiver?.stop();
    await pool.close();
    await proxy.close();
    await merchant.close();
    await storeCut?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
