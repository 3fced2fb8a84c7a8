// One chaos run: a sandbox ACP merchant behind the fault proxy, MCP servers (real processes) with the acp
// backend in front of it on one ledger store, and many agents buying through faults, crashes and outages.
// At the end the merchant's own records are judged against the ledger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveMerchant } from '../backends/sandbox/http.js';
import { mulberry32 } from '../backends/sandbox/faults.js';
import { openMemoryStore } from '../store/memory.js';
import { openStore, parseStoreUrl } from '../store/open.js';
import { runTask, type TaskOutcome, type TaskPlan } from './agent.js';
import { PROXY_FAULTS, startFaultProxy, type ProxyFault } from './fault-proxy.js';
import { ServerPool } from './server-pool.js';
import { startStoreCut, type StoreCut } from './store-cut.js';
import { judge, type Verdict } from './verdict.js';

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
  /** Progress on stderr. */
  onProgress?: (done: number, total: number, summary: { faults: number; reinvocations: number }) => void;
}

export type FaultKind = ProxyFault | 'partition' | 'server_sigkill' | 'store_outage';

export interface ChaosSummary {
  tasks: number;
  processes: number;
  store: string;
  seed: number;
  faults: Record<FaultKind, number>;
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
  wallSeconds: number;
  toolLatencyMs: { p50: number; p99: number; calls: number };
  verdict: Verdict;
}

const PHYSICAL_ITEMS = ['sku_tshirt', 'sku_mug', 'sku_hoodie', 'sku_cap', 'sku_sticker_pack', 'sku_notebook', 'sku_socks', 'sku_tote', 'sku_poster'];
const TOKEN = 'chaos-merchant-token';

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] * 100) / 100;
}

function planTask(runId: string, index: number, random: () => number): TaskPlan {
  const lines = 1 + Math.floor(random() * 3);
  const items = Array.from({ length: lines }, () => ({
    id: PHYSICAL_ITEMS[Math.floor(random() * PHYSICAL_ITEMS.length)],
    quantity: 1 + Math.floor(random() * 3),
  }));
  return { taskId: `${runId}-${index}`, items, declineFirst: random() < 0.1 };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const started = performance.now();
  const random = mulberry32(options.seed);
  const runId = `chaos${options.seed}x${Date.now().toString(36)}`;
  const principal = runId;
  const scratch = mkdtempSync(join(tmpdir(), 'once-chaos-'));
  const ledgerUrl = options.store ?? `sqlite://${join(scratch, 'ledger.db')}`;
  const isPostgres = parseStoreUrl(ledgerUrl).kind === 'postgres';

  const merchantStore = openMemoryStore();
  const merchant = await serveMerchant({ port: 0, store: merchantStore, tokens: { [TOKEN]: 'chaos' } });
  let storm = true;
  const faultRandom = mulberry32(options.seed ^ 0x5eed);
  const proxy = await startFaultProxy({
    target: merchant.url,
    keepLog: false,
    decide(method) {
      if (!storm) return undefined;
      // Reads (reconciliation) meet faults less often, so a storm still lets the truth through now and then.
      const rate = method === 'GET' ? options.faultRate / 2 : options.faultRate;
      if (faultRandom() >= rate) return undefined;
      const fault = PROXY_FAULTS[Math.floor(faultRandom() * PROXY_FAULTS.length)];
      return { fault, delayMs: 1_500, status: faultRandom() < 0.5 ? 500 : 503, retryAfterSeconds: 1 };
    },
  });
  const storeCut: StoreCut | undefined = isPostgres ? await startStoreCut(ledgerUrl) : undefined;
  const pool = new ServerPool(
    {
      bin: options.bin,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? scratch,
        ONCE_STORE: storeCut?.url ?? ledgerUrl,
        ONCE_BACKEND: 'acp',
        ACP_BASE_URL: proxy.url,
        ACP_API_KEY: TOKEN,
        ACP_TIMEOUT: '1s',
        ONCE_PRINCIPAL: principal,
        ONCE_LOG: 'warn',
        // Agents here retry far faster than any person's agent would; the limit is not what is under test.
        ONCE_RATE_LIMIT: 'off',
      },
    },
    options.processes,
    mulberry32(options.seed ^ 0xbeef),
  );
  const counts = { partition: 0, server_sigkill: 0, store_outage: 0 };
  const latencies: number[] = [];
  const outcomes: TaskOutcome[] = [];
  const disruptions: Array<Promise<void>> = [];
  // Crashes, partitions and store outages are spread by task count: at least one of each per 90 tasks.
  const every = Math.max(1, Math.min(90, Math.floor(options.tasks / 5)));

  try {
    await pool.start();
    const plans = Array.from({ length: options.tasks }, (_, i) => planTask(runId, i, random));
    const agentRandom = mulberry32(options.seed ^ 0xa9e7);
    const agent = { pool, random: agentRandom, parallelChance: 0.1, maxTries: 25, callTimeoutMs: 30_000, latencies };
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
        const faults = Object.values(proxy.counts.faults).reduce((a, b) => a + b, 0) + counts.server_sigkill + counts.store_outage;
        options.onProgress?.(outcomes.filter(Boolean).length, plans.length, {
          faults,
          reinvocations: outcomes.reduce((sum, o) => sum + (o?.reinvocations ?? 0), 0),
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, plans.length) }, worker));
    await Promise.all(disruptions);

    // The storm passes: agents that gave up come back once the network is calm, as a person would ask again.
    storm = false;
    let recovered = 0;
    for (let i = 0; i < outcomes.length; i++) {
      if (outcomes[i].status !== 'gave_up') continue;
      const again = await runTask(plans[i], { ...agent, parallelChance: 0 });
      again.reinvocations += outcomes[i].reinvocations;
      outcomes[i] = again;
      if (again.status === 'completed') recovered += 1;
    }

    const ledgerStore = await openStore(parseStoreUrl(ledgerUrl));
    let verdict: Verdict;
    try {
      verdict = await judge(merchantStore, ledgerStore, outcomes, principal);
    } finally {
      await ledgerStore.close();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      tasks: options.tasks,
      processes: options.processes,
      store: parseStoreUrl(ledgerUrl).kind,
      seed: options.seed,
      faults: { ...proxy.counts.faults, partition: counts.partition, server_sigkill: counts.server_sigkill, store_outage: counts.store_outage },
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
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
      toolLatencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), calls: sorted.length },
      verdict,
    };
  } finally {
    await pool.close();
    await proxy.close();
    await merchant.close();
    await storeCut?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
