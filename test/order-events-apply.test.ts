// Issue 18, the parts: Merchant-Signature verification, the secrets file, which of two order states is newer,
// and applying events exactly once on every store (memory, SQLite, PostgreSQL, Redis) with the same atomic
// claim and compare-and-swap the ledger uses.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckoutHeads } from '../src/checkout/heads.js';
import type { CheckoutSession } from '../src/checkout/session.js';
import { ConfigError } from '../src/config/config-error.js';
import { Ledger } from '../src/ledger/ledger.js';
import { signAcpEvent, verifyAcpSignature } from '../src/orders/acp-signature.js';
import { parseMerchantOrder, progressOf, supersedes, type MerchantOrder } from '../src/orders/merchant-order.js';
import { OrderEvents, orderEventsKey, type OrderEventsRecord } from '../src/orders/order-events.js';
import { parseWebhookSecrets } from '../src/orders/webhook-secrets.js';
import { openMemoryStore } from '../src/store/memory.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { openRedisStore } from '../src/store/redis.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { freshPostgresDatabase, freshRedisDatabase, postgresAvailable, redisAvailable } from './support/services.js';

const SECRET = 'whsec_0123456789abcdef0123';
const OTHER = 'whsec_fedcba9876543210fedc';
const NOW = 1_780_000_000_000;
const T = NOW / 1000;

describe('issue 18: Merchant-Signature (t=<unix>,v1=<hex>, HMAC-SHA256 of t.raw_body)', () => {
  const body = Buffer.from('{"type":"order_create","data":{}}');
  const secrets = [
    { merchant: 'acp:https://a.example', secret: SECRET },
    { merchant: 'acp:https://b.example', secret: OTHER },
  ];

  it('a signature under a merchant\'s secret verifies and names that merchant', () => {
    expect(verifyAcpSignature(signAcpEvent(OTHER, body, T), body, secrets, NOW)).toEqual({ ok: true, merchant: 'acp:https://b.example', signedAt: NOW });
  });

  it('the 300 s window holds on both sides; outside it the spec\'s words', () => {
    expect(verifyAcpSignature(signAcpEvent(SECRET, body, T - 300), body, secrets, NOW).ok).toBe(true);
    expect(verifyAcpSignature(signAcpEvent(SECRET, body, T - 301), body, secrets, NOW)).toMatchObject({ ok: false, reason: 'expired', message: 'Timestamp outside allowed window.' });
    expect(verifyAcpSignature(signAcpEvent(SECRET, body, T + 301), body, secrets, NOW)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('one changed byte of the body, or another secret, fails; a rotating merchant may send two v1 entries', () => {
    const changed = Buffer.from(body.toString().replace('create', 'update'));
    expect(verifyAcpSignature(signAcpEvent(SECRET, body, T), changed, secrets, NOW)).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyAcpSignature(signAcpEvent('whsec_not_a_known_secret!', body, T), body, secrets, NOW)).toMatchObject({ ok: false, reason: 'mismatch' });
    const old = signAcpEvent('whsec_retired_secret_0000', body, T).split(',')[1];
    expect(verifyAcpSignature(`${signAcpEvent(SECRET, body, T)},${old}`, body, secrets, NOW)).toMatchObject({ ok: true, merchant: 'acp:https://a.example' });
  });

  it('missing and malformed headers are refused before any HMAC', () => {
    expect(verifyAcpSignature(undefined, body, secrets, NOW)).toMatchObject({ ok: false, reason: 'missing' });
    for (const header of ['', 'v1=' + 'a'.repeat(64), `t=${T}`, `t=${T},v1=abc`, `t=abc,v1=${'a'.repeat(64)}`, `t=${T},t=${T},v1=${'a'.repeat(64)}`, 'garbage']) {
      expect(verifyAcpSignature(header, body, secrets, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });
});

describe('issue 18: ACP_WEBHOOK_SECRET', () => {
  const served = 'acp:https://shop.example/api';
  const file = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'once-whsec-')), 'secrets');
    writeFileSync(path, text);
    return `@${path}`;
  };

  it('a plain value is the served merchant\'s secret; unset is off', () => {
    expect(parseWebhookSecrets(SECRET, served)).toEqual([{ merchant: served, secret: SECRET }]);
    expect(parseWebhookSecrets(undefined, served)).toBeUndefined();
    expect(parseWebhookSecrets('  ', served)).toBeUndefined();
  });

  it('@file: merchant=secret lines, comments allowed, merchants by identity or ACP base URL, base64 = kept', () => {
    const secrets = parseWebhookSecrets(file(`# shops\n\nhttps://shop.example/api/=${SECRET}==\nacp:https://other.example=${OTHER}\n`), served);
    expect(secrets).toEqual([
      { merchant: served, secret: `${SECRET}==` },
      { merchant: 'acp:https://other.example', secret: OTHER },
    ]);
  });

  it('config checks at start-up name the variable and never the secret', () => {
    const cases = [
      ['short', () => parseWebhookSecrets('tooshort', served)],
      ['no served merchant', () => parseWebhookSecrets(file(`acp:https://other.example=${OTHER}\n`), served)],
      ['not merchant=secret', () => parseWebhookSecrets(file(`${OTHER}\n`), served)],
      ['twice', () => parseWebhookSecrets(file(`${served}=${SECRET}\nacp:https://x.example=${SECRET}\n`), served)],
      ['unreadable', () => parseWebhookSecrets('@/nonexistent/secrets', served)],
      ['not an ACP merchant', () => parseWebhookSecrets(SECRET, 'stripe:acct_123')],
    ] as const;
    for (const [, run] of cases) {
      let error: unknown;
      try {
        run();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^ACP_WEBHOOK_SECRET: /);
      expect((error as Error).message).not.toContain(SECRET);
      expect((error as Error).message).not.toContain(OTHER);
    }
  });
});

function order(patch: Partial<MerchantOrder> = {}): MerchantOrder {
  const parsed = parseMerchantOrder({ id: 'ord_1', checkout_session_id: 'cs_1', permalink_url: 'https://shop.example/orders/1', status: 'created', ...patch });
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.order;
}

const shipment = (status: string, events: string[]) => ({
  id: 'ful_1',
  type: 'shipping',
  status,
  events: events.map((type, i) => ({ id: `evt_${i}`, type, occurred_at: `2026-02-0${i + 1}T10:00:00Z` })),
});

describe('issue 18: which of two order states is newer (ACP orders carry no version)', () => {
  it('progress decides: status along its life, fulfillment events, adjustments and their status', () => {
    const created = order();
    const shipped = order({ status: 'shipped', fulfillments: [shipment('shipped', ['shipped'])] });
    const delivered = order({ status: 'completed', fulfillments: [shipment('delivered', ['shipped', 'delivered'])] });
    const refundPending = order({ ...delivered, adjustments: [{ id: 'adj_1', type: 'refund', occurred_at: '2026-02-10T00:00:00Z', status: 'pending' }] });
    const refundDone = order({ ...delivered, adjustments: [{ id: 'adj_1', type: 'refund', occurred_at: '2026-02-10T00:00:00Z', status: 'completed' }] });
    expect(progressOf(created, shipped)).toBe('newer');
    expect(progressOf(delivered, shipped)).toBe('older');
    expect(progressOf(delivered, refundPending)).toBe('newer');
    expect(progressOf(refundDone, refundPending)).toBe('older');
    expect(progressOf(shipped, shipped)).toBe('same');
  });

  it('an older state signed later still loses; equal progress falls to the times the order names, then the signature', () => {
    const shipped = order({ status: 'shipped', fulfillments: [shipment('shipped', ['shipped'])] });
    const delivered = order({ status: 'completed', fulfillments: [shipment('delivered', ['shipped', 'delivered'])] });
    expect(supersedes(delivered, 1_000, shipped, 9_000)).toBe(false);
    const retracked = order({ ...shipped, fulfillments: [{ ...shipment('shipped', ['shipped']), carrier: 'UPS' }] });
    expect(supersedes(shipped, 1_000, retracked, 2_000)).toBe(true);
    expect(supersedes(retracked, 2_000, shipped, 1_000)).toBe(false);
  });

  it('what does not parse is refused with its JSONPath; URLs we would not pass on are dropped', () => {
    expect(parseMerchantOrder({ id: 'ord_1', checkout_session_id: 'cs_1', permalink_url: 'http://evil.example/o' })).toMatchObject({ ok: false, param: '$.data.permalink_url' });
    expect(parseMerchantOrder({ id: 'ord_1', checkout_session_id: 'cs_1', permalink_url: 'https://s.example/o', totals: [{ type: 'total', display_text: 'T', amount: 12.5 }] })).toMatchObject({ ok: false, param: '$.data.totals[0].amount' });
    const kept = order({ fulfillments: [{ id: 'f', type: 'shipping', tracking_url: 'javascript:alert(1)' } as never] });
    expect(kept.fulfillments?.[0]).toEqual({ id: 'f', type: 'shipping' });
  });
});

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();
const stores: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => openMemoryStore()],
  ['sqlite', async () => openSqliteStore(join(mkdtempSync(join(tmpdir(), 'once-orders-')), 'ledger.db'))],
];
if (pgUp) stores.push(['postgres', async () => openPostgresStore(await freshPostgresDatabase('once_order_events_apply'))]);
if (redisUp) stores.push(['redis', async () => openRedisStore(await freshRedisDatabase(10))]);

const MERCHANT = 'acp:https://shop.example/api';

describe.each(stores)('issue 18: order events applied exactly once on %s', (_name, open) => {
  let store: Store;
  afterAll(async () => store?.close());

  async function setUp(anchor: string) {
    store ??= await open();
    const ledger = new Ledger({ store, ttlMs: 3_600_000, waitMs: 100 });
    const heads = new CheckoutHeads(store, 'acp', MERCHANT, ledger.clock, ledger.leaseMs);
    const checkout = { id: anchor, status: 'ready_for_payment', currency: 'usd', line_items: [], totals: [], fulfillment_options: [], messages: [], links: [] } as CheckoutSession;
    await heads.create({ principal: 'alice', backend: 'acp', merchant: MERCHANT, anchor, create_key: `create-${anchor}`, checkout, first_seen_at: 1, updated_at: 1 });
    return { ledger, heads, events: new OrderEvents(ledger, heads) };
  }

  it('30 concurrent deliveries of one state: one line, 30 deliveries, applied once', async () => {
    const { events } = await setUp('cs_dup');
    const state = order({ checkout_session_id: 'cs_dup' });
    const results = await Promise.all(Array.from({ length: 30 }, () => events.receive({ merchant: MERCHANT, type: 'order_create', order: state, signedAt: NOW })));
    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(29);
    const record = (await store.get<OrderEventsRecord>(orderEventsKey('acp', MERCHANT, 'cs_dup')))!.value;
    expect(record.lines).toEqual([expect.objectContaining({ outcome: 'applied', seq: 1, deliveries: 30 })]);
  });

  it('newer and older states raced: the newest wins on the head whatever the arrival order', async () => {
    const { events, heads } = await setUp('cs_race');
    const states = [
      order({ checkout_session_id: 'cs_race' }),
      order({ checkout_session_id: 'cs_race', status: 'confirmed' }),
      order({ checkout_session_id: 'cs_race', status: 'shipped', fulfillments: [shipment('shipped', ['shipped'])] }),
      order({ checkout_session_id: 'cs_race', status: 'completed', fulfillments: [shipment('delivered', ['shipped', 'delivered'])] }),
    ];
    await Promise.all([...states].reverse().map((s, i) => events.receive({ merchant: MERCHANT, type: 'order_update', order: s, signedAt: NOW + i })));
    expect((await heads.read('cs_race'))!.value.order!.value.status).toBe('completed');
    const record = (await store.get<OrderEventsRecord>(orderEventsKey('acp', MERCHANT, 'cs_race')))!.value;
    expect(record.lines).toHaveLength(4);
    expect(record.latest!.value.status).toBe('completed');
  });

  it('R13: an order settles a complete whose outcome is unknown, and closes it on the head', async () => {
    const { events, heads, ledger } = await setUp('cs_unknown');
    const stored = (await heads.read('cs_unknown'))!;
    const held = (await heads.tryLock(stored, 'complete', 'complete-cs_unknown'))!;
    await ledger.run<CheckoutSession>({
      key: 'complete-cs_unknown',
      principal: 'alice',
      operation: 'complete',
      backend: 'acp',
      anchor: 'cs_unknown',
      fingerprint: 'f',
      summary: {},
      execute: async () => ({ kind: 'unknown', reason: 'response lost' }),
      reconcile: async () => ({ kind: 'unknown', reason: 'no answer' }),
    });
    await held.release();
    const result = await events.receive({ merchant: MERCHANT, type: 'order_create', order: order({ checkout_session_id: 'cs_unknown' }), signedAt: NOW });
    expect(result.settled).toEqual(['complete-cs_unknown']);
    expect((await ledger.read('complete-cs_unknown'))!.state).toMatchObject({ status: 'succeeded', result: { status: 'completed', order: { id: 'ord_1' } } });
    expect((await heads.read('cs_unknown'))!.value).toMatchObject({ open: [], fresh: true, checkout: { status: 'completed' }, order: { seq: 1 } });
  });

  it('another merchant\'s order with the same checkout id is not ours (R15): recorded as unknown', async () => {
    const { events, heads } = await setUp('cs_shared');
    const result = await events.receive({ merchant: 'acp:https://other.example', type: 'order_create', order: order({ checkout_session_id: 'cs_shared' }), signedAt: NOW });
    expect(result).toMatchObject({ known: false, outcome: 'applied', settled: [] });
    expect((await heads.read('cs_shared'))!.value.order).toBeUndefined();
  });
});
