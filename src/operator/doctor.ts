// `doctor`: the start-up path of the server taken one step at a time (configuration, store, backend
// settings, retention R8, reachability, telemetry), so every problem is reported with its fix, not just the first.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Backend } from '../backends/backend.js';
import { NoLedgerError, scrubbedFor, StoreRefusedError, storeWhere } from '../store/store-refusal.js';
import type { PreparedBackend } from '../backends/backend.js';
import { prepareBackend } from '../backends/open.js';
import { assertReachable } from '../backends/reachability.js';
import { DEFAULT_HTTP_RATE_LIMIT, loadConfig, type Config } from '../config/config.js';
import { describeHttpLimits } from '../transports/http.js';
import { checkRedisPersistence } from './redis-persistence.js';
import { formatDuration } from '../config/duration.js';
import { effectiveTtl } from '../config/retention.js';
import { RECORD_PREFIX, type LedgerRecord, type Status } from '../ledger/record.js';
import { ANCHOR_PREFIX } from '../checkout/heads.js';
import { parseStoreUrl } from '../config/store-url.js';
import { openStore } from '../store/open.js';
import type { StoreUrl } from '../store/store.js';
import { TOLERANCE_S } from '../orders/acp-signature.js';
import { orderEventRecords } from '../orders/order-events.js';
import { parseWebhookSecrets, VARIABLE as WEBHOOK_VARIABLE } from '../orders/webhook-secrets.js';
import { MAX_EVENT_BYTES, ORDER_EVENTS_PATH } from '../transports/order-webhook.js';
import { UCP_ORDER_EVENTS_PATH } from '../transports/ucp-order-webhook.js';
import { UcpBackend } from '../backends/ucp/ucp-backend.js';
import type { Store } from '../store/store.js';
import { openMemoryStore } from '../store/memory.js';
import { telemetryChecks } from '../telemetry/doctor-checks.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  /** What was found; for a failure, the problem and its fix. */
  detail: string;
}

const STORE_TIMEOUT_MS = 8_000;

/** Records one check's outcome. */
type Add = (name: string, status: Check['status'], detail: string) => void;

export async function runDoctor(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks: Check[] = [];
  const add: Add = (name, status, detail) => checks.push({ name, status, detail });

  const config = checkConfig(env, add);
  const { url, store } = await checkStore(env, add);
  // A Redis that keeps nothing across a restart loses the whole ledger silently (then keys can be sent twice).
  if (store && url?.kind === 'redis') {
    const verdict = await checkRedisPersistence(url.url);
    add('persistence', verdict.status, scrubbedFor(url, verdict.detail));
  }
  checkHttpLimits(config, add);
  const { prepared, scratch } = await checkBackendSettings(config, store, add);
  await checkWebhooks(env, config, prepared, store, add);
  checkRetention(config, prepared, add);
  await checkBackendAnswers(config, prepared, add);

  // 6. Traces and metrics: on or off, where they go (OTEL_*, ONCE_METRICS_TOKEN), and what they need.
  for (const check of await telemetryChecks(env)) add(check.name, check.status, check.detail);

  await store?.close().catch(() => {});
  await scratch?.close().catch(() => {});
  return checks;
}

/** 1. Everything but the store URL, which the next steps check on their own. */
function checkConfig(env: NodeJS.ProcessEnv, add: Add): Config | undefined {
  try {
    const config = loadConfig({ ...env, ONCE_STORE: undefined });
    add('config', 'ok', `backend ${config.backend}, principal ${config.principal}, dedup window ${formatDuration(config.windowMs)}, log ${config.logLevel}`);
    return config;
  } catch (error) {
    add('config', 'fail', messageOf(error));
    return undefined;
  }
}

/** 2. The store URL, then the store itself; the store is left open for the checks that read it. */
async function checkStore(env: NodeJS.ProcessEnv, add: Add): Promise<{ url?: StoreUrl; store?: Store }> {
  let url: StoreUrl | undefined;
  try {
    url = parseStoreUrl(env.ONCE_STORE, env);
    add('store url', 'ok', describeUrl(url));
  } catch (error) {
    add('store url', 'fail', messageOf(error));
  }
  if (!url) {
    add('store', 'skip', 'fix ONCE_STORE first');
    return {};
  }
  let store: Store | undefined;
  try {
    // Doctor only reads: a ledger that is not there yet is reported, never created.
    store = await withTimeout(openStore(url, { mustExist: true }), 'opening the store');
    const counts = await withTimeout(countEntries(store), 'reading the store');
    const open = (counts.byStatus.unknown ?? 0) + (counts.byStatus.pending ?? 0);
    const statuses = Object.entries(counts.byStatus).map(([s, n]) => `${n} ${s}`).join(', ');
    const detail = `${store.description} (${tableOf(url)}): ${counts.records} ledger record(s)${statuses ? ` (${statuses})` : ''}, ${counts.anchors} checkout(s), ${counts.other} other entr${counts.other === 1 ? 'y' : 'ies'}`;
    add('store', open > 0 ? 'warn' : 'ok', open > 0 ? `${detail}; ${open} open (unknown or pending) record(s): see once-checkout reconcile` : detail);
    return { url, store };
  } catch (error) {
    if (error instanceof NoLedgerError) add('store', ...notCreatedYet(url, error));
    else if (error instanceof StoreRefusedError) add('store', 'fail', error.message); // a permanent fault, with its fix
    else add('store', 'fail', `${describeUrl(url)} cannot be used: ${scrubbedFor(url, messageOf(error))}. ${storeFix(url)}`);
    await store?.close().catch(() => {});
    return { url };
  }
}

/** HTTP mode's limits, so an operator sees what a token holder can and cannot consume. */
function checkHttpLimits(config: Config | undefined, add: Add): void {
  if (config) {
    const perMinute = config.rateLimitPerMinute ?? DEFAULT_HTTP_RATE_LIMIT;
    add('http', 'ok', `serve --http limits: ${describeHttpLimits({ ...config.http, perMinute })}`);
  } else {
    add('http', 'skip', 'fix the configuration first');
  }
}

/** 3. The backend's settings and credentials (nothing is contacted yet). */
async function checkBackendSettings(config: Config | undefined, store: Store | undefined, add: Add): Promise<{ prepared?: PreparedBackend; scratch?: Store }> {
  if (!config) {
    add('backend', 'skip', 'fix the configuration first');
    return {};
  }
  // The sandbox keeps its state in the store; without a working one, a scratch store still checks the settings.
  const scratch = store ? undefined : openMemoryStore();
  try {
    const prepared = await prepareBackend(config, store ?? scratch!);
    add('backend', 'ok', `${config.backend} settings are complete (merchant ${prepared.backend.merchant})`);
    return { prepared, scratch };
  } catch (error) {
    add('backend', 'fail', messageOf(error));
    return { scratch };
  }
}

/** Issue 18: the merchants' signing secrets for order events (HTTP mode). */
async function checkWebhooks(env: NodeJS.ProcessEnv, config: Config | undefined, prepared: PreparedBackend | undefined, store: Store | undefined, add: Add): Promise<void> {
  if (!config || !prepared) {
    add('webhooks', 'skip', 'needs the configuration and backend settings');
    return;
  }
  try {
    const secrets = parseWebhookSecrets(env[WEBHOOK_VARIABLE], prepared.backend.merchant);
    if (prepared.backend instanceof UcpBackend) {
      const profile = `${prepared.backend.endpoint.url.origin}/.well-known/ucp`;
      add('webhooks', 'ok', `serve --http receives the business's UCP order webhooks at POST ${UCP_ORDER_EVENTS_PATH}, signed with a key from ${profile} (signing_keys)`);
    } else if (!secrets) {
      add('webhooks', 'ok', `off: ${WEBHOOK_VARIABLE} is not set, so merchants' order events are not received (get_checkout reads the merchant)`);
    } else {
      const merchants = [...new Set(secrets.map((s) => s.merchant))];
      let strangers = 0;
      if (store) for await (const record of orderEventRecords(store)) if (!record.known) strangers += 1;
      const detail = `serve --http receives them at POST ${ORDER_EVENTS_PATH}: ${secrets.length} secret(s) for ${merchants.join(', ')}; Merchant-Signature checked within ${TOLERANCE_S} s, bodies up to ${MAX_EVENT_BYTES / 1024} KiB`;
      add('webhooks', strangers > 0 ? 'warn' : 'ok', strangers > 0 ? `${detail}; ${strangers} order(s) for checkouts this ledger does not know: see once-checkout reconcile` : detail);
    }
  } catch (error) {
    add('webhooks', 'fail', messageOf(error));
  }
}

/** 4. R8: the record TTL below the provider's key retention. */
function checkRetention(config: Config | undefined, prepared: PreparedBackend | undefined, add: Add): void {
  if (!config || !prepared) {
    add('retention', 'skip', 'needs the configuration and backend settings');
    return;
  }
  const retention = prepared.backend.retention;
  try {
    const ttl = effectiveTtl(config.ttlMs, retention, config.windowMs);
    const source = config.ttlMs === undefined ? 'default' : 'ONCE_TTL';
    add('retention', 'ok', `record TTL ${formatDuration(ttl)} (${source}) is below the provider's ${formatDuration(retention.providerMs)} (${retention.description})`);
  } catch (error) {
    add('retention', 'fail', messageOf(error));
  }
}

/** 5. The backend answers; 6. the protocol version in use; and for Stripe, whose account the key is. */
async function checkBackendAnswers(config: Config | undefined, prepared: PreparedBackend | undefined, add: Add): Promise<void> {
  if (!prepared) {
    add('reachable', 'skip', 'needs the backend settings');
    return;
  }
  const [status, detail] = await reach(prepared);
  add('reachable', status, detail);
  // 6. The protocol version in use (ACP: what `auto` found at the merchant).
  if (status === 'ok' && prepared.backend.describeProtocol) {
    try {
      add('protocol', 'ok', await withTimeout(prepared.backend.describeProtocol(), 'asking the merchant which ACP version it speaks'));
    } catch (error) {
      add('protocol', 'warn', messageOf(error));
    }
  }
  await prepared.backend.close?.().catch(() => {});
  // Stripe: which account the key belongs to (and whether STRIPE_ACCOUNT_ID agrees).
  if (config?.backend === 'stripe') {
    if (status === 'ok') {
      const { checkStripeAccount } = await import('../backends/stripe/stripe-account.js');
      const { readStripeConfig } = await import('../backends/stripe/stripe-config.js');
      const account = await checkStripeAccount(readStripeConfig(config.env));
      add('account', account.status, account.detail);
    } else {
      add('account', 'skip', 'Stripe does not answer');
    }
  }
}

/** No ledger yet is fine before the first start, as long as the server will be able to create it. */
function notCreatedYet(url: StoreUrl, error: NoLedgerError): [Check['status'], string] {
  if (url.kind === 'memory') return ['ok', 'memory:// (tests only): each server keeps its ledger in its own memory, and nothing is left after exit'];
  const yet = `${error.message.replace(/^ONCE_STORE: /, '').replace(/ \(.*$/, '')} yet: the server creates it when it first starts`;
  if (url.kind !== 'sqlite') return ['ok', yet];
  const dir = nearestExisting(dirname(url.path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
    return ['ok', `${yet} (${dir} is writable)`];
  } catch (problem) {
    return ['fail', `sqlite://${url.path} cannot be created (${messageOf(problem)}). ${storeFix(url)}`];
  }
}

function nearestExisting(path: string): string {
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

async function reach({ backend, endpoint }: PreparedBackend): Promise<[Check['status'], string]> {
  if (!endpoint) return probeInProcess(backend);
  try {
    await assertReachable(endpoint.variable, endpoint.url);
    return ['ok', `${new URL(endpoint.url).origin} answers (${endpoint.variable})`];
  } catch (error) {
    return ['fail', messageOf(error)];
  }
}

/** The in-process sandbox: a read of a checkout that cannot exist must come back as not found. */
async function probeInProcess(backend: Backend): Promise<[Check['status'], string]> {
  try {
    const seen = await withTimeout(backend.get('cs_doctor_probe'), 'asking the sandbox merchant');
    if (seen.kind === 'failed' && seen.code === 'checkout_not_found') return ['ok', `${backend.name} merchant answers (in process)`];
    return ['fail', `${backend.name} merchant answered ${seen.kind} to a probe read. Check ONCE_SANDBOX_FAULTS (unset it for doctor)`];
  } catch (error) {
    return ['fail', `${backend.name} merchant cannot be read: ${messageOf(error)}. Check the store`];
  }
}

async function countEntries(store: Store) {
  const byStatus: Partial<Record<Status, number>> = {};
  let records = 0;
  for await (const [, record] of store.entries<LedgerRecord>(RECORD_PREFIX)) {
    records += 1;
    byStatus[record.state.status] = (byStatus[record.state.status] ?? 0) + 1;
  }
  let anchors = 0;
  for await (const _ of store.entries(ANCHOR_PREFIX)) anchors += 1;
  let all = 0;
  for await (const _ of store.entries('')) all += 1;
  return { records, byStatus, anchors, other: all - records - anchors };
}

/** Where each store keeps its entries (created by the store on first open; there are no migrations). */
function tableOf(url: StoreUrl): string {
  const tables: Record<string, string> = { sqlite: 'table keyv', postgres: 'table once_checkout', memory: 'in memory' };
  return tables[url.kind] ?? `${url.kind} keys`;
}

/** Where the store is, never with a credential the URL may carry (userinfo password, ?password=, tokens…). */
function describeUrl(url: StoreUrl): string {
  return url.kind === 'memory' ? 'memory:// (tests only: keeps nothing after exit)' : storeWhere(url);
}

function storeFix(url: StoreUrl): string {
  switch (url.kind) {
    case 'sqlite':
      return `Fix: make sure the directory of ${url.path} exists and is writable, or set ONCE_STORE to another sqlite:///path.db`;
    case 'memory':
      return 'Fix: report this defect';
    default:
      return `Fix: make sure the ${url.kind} server in ONCE_STORE is running and accepts this user, or correct ONCE_STORE`;
  }
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+$/, '');
}

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${STORE_TIMEOUT_MS / 1000} s ${what}`)), STORE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
