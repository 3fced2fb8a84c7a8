import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { openMemoryStore } from '../src/store/memory.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';

const address = { name: 'A', line_one: '1 St', city: 'C', state: 'S', country: 'US', postal_code: '10001' };
const cart = { line_items: [{ id: 'sku_mug' }], currency: 'usd', capabilities: {}, fulfillment_details: { address } };
const pay = { payment_data: { handler_id: 'h', instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } } };

let server: MerchantServer;
let n = 0;

interface Call {
  method?: string;
  body?: unknown;
  raw?: string;
  key?: string | null;
  token?: string | null;
  version?: string | null;
}

async function call(path: string, { method = 'POST', body, raw, key, token = 'secret-a', version = '2026-04-17' }: Call = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (version !== null) headers['API-Version'] = version;
  if (method === 'POST' && key !== null) headers['Idempotency-Key'] = key ?? `http-${++n}`;
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: method === 'POST' ? (raw ?? JSON.stringify(body ?? {})) : undefined,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  server = await serveMerchant({
    port: 0,
    store: openMemoryStore(),
    tokens: { 'secret-a': 'agent-a', 'secret-b': 'agent-b' },
  });
});
afterAll(() => server.close());

describe('sandbox merchant over HTTP (ACP REST)', () => {
  it('create 201, update 200, complete 200 with order, GET 200; links point at this server', async () => {
    const created = await call('/checkout_sessions', { body: cart });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toContain('application/json');
    expect(created.body.status).toBe('ready_for_payment');
    const id = created.body.id as string;
    const updated = await call(`/checkout_sessions/${id}`, { body: { buyer: { email: 'ada@example.com' } } });
    expect(updated.status).toBe(200);
    const done = await call(`/checkout_sessions/${id}/complete`, { body: pay });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    expect(done.body.order.permalink_url).toMatch(new RegExp(`^${server.url}/orders/ord_`));
    const read = await call(`/checkout_sessions/${id}`, { method: 'GET' });
    expect(read.status).toBe(200);
    expect(read.body.order).toEqual(done.body.order);
  });

  it('401 with a flat Error without a valid bearer token, and nothing is created', async () => {
    const before = (await server.merchant.stats()).sessions;
    for (const token of [null, 'wrong']) {
      const r = await call('/checkout_sessions', { body: cart, token });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.body).toMatchObject({ type: 'invalid_request', code: 'unauthorized' });
    }
    expect((await server.merchant.stats()).sessions).toBe(before);
  });

  it('400 with supported_versions (newest first) when API-Version is missing or not a released version', async () => {
    const all = ['2026-04-17', '2026-01-30', '2026-01-16', '2025-12-12', '2025-09-29'];
    const missing = await call('/checkout_sessions', { body: cart, version: null });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'api_version_required', supported_versions: all });
    const unknown = await call('/checkout_sessions', { body: cart, version: '2024-01-01' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'unsupported_api_version', supported_versions: all });
  });

  it('issue 13: a merchant serving only 2025-09-29 refuses 2026-04-17 and lists what it speaks', async () => {
    const old = await serveMerchant({ port: 0, store: openMemoryStore(), versions: ['2025-09-29'] });
    try {
      const response = await fetch(`${old.url}/checkout_sessions`, {
        method: 'POST',
        headers: { Authorization: 'Bearer any', 'API-Version': '2026-04-17', 'Idempotency-Key': 'k-old', 'Content-Type': 'application/json' },
        body: JSON.stringify(cart),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'unsupported_api_version', supported_versions: ['2025-09-29'] });
    } finally {
      await old.close();
    }
  });

  it('400 idempotency_key_required on a POST without Idempotency-Key; GET needs none', async () => {
    const r = await call('/checkout_sessions', { body: cart, key: null });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('idempotency_key_required');
  });

  it('replays with Idempotent-Replayed: true; 422 idempotency_conflict on a different body', async () => {
    const first = await call('/checkout_sessions', { body: cart, key: 'http-replay' });
    const again = await call('/checkout_sessions', { body: cart, key: 'http-replay' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body).toEqual(first.body);
    const other = await call('/checkout_sessions', { body: { ...cart, currency: 'USD' }, key: 'http-replay' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_conflict');
    // Another caller's identical key is its own.
    const b = await call('/checkout_sessions', { body: cart, key: 'http-replay', token: 'secret-b' });
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(first.body.id);
  });

  it('400 invalid_json on a body that is not JSON (not stored: the key is still free)', async () => {
    const bad = await call('/checkout_sessions', { raw: '{"line_items": [', key: 'json-key' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ type: 'invalid_request', code: 'invalid_json' });
    expect((await call('/checkout_sessions', { body: cart, key: 'json-key' })).status).toBe(201);
  });

  it('405 for complete or cancel of a finished session; 404 for an unknown one; Request-Id echoed', async () => {
    const id = (await call('/checkout_sessions', { body: cart })).body.id as string;
    expect((await call(`/checkout_sessions/${id}/cancel`, { body: {} })).status).toBe(200);
    const again = await call(`/checkout_sessions/${id}/cancel`, { body: {} });
    expect(again.status).toBe(405);
    expect(again.body.code).toBe('checkout_already_canceled');
    expect((await call(`/checkout_sessions/${id}/complete`, { body: pay })).status).toBe(405);
    const missing = await fetch(`${server.url}/checkout_sessions/cs_nope`, {
      headers: { Authorization: 'Bearer secret-a', 'API-Version': '2026-04-17', 'Request-Id': 'trace-123' },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('request-id')).toBe('trace-123');
  });

  it('a session id that is not valid percent-encoding is a session that does not exist (404), not a 500', async () => {
    for (const path of ['/checkout_sessions/%E0%A4%A', '/checkout_sessions/%zz/complete']) {
      const answer = await call(path, { method: path.endsWith('complete') ? 'POST' : 'GET', body: pay });
      expect(answer.status, path).toBe(404);
      expect(answer.body.type).toBe('invalid_request');
    }
    expect((await call('/checkout_sessions', { body: cart })).status).toBe(201);
  });
});

describe('sandbox merchant over HTTP: in flight', () => {
  it('409 idempotency_in_flight with Retry-After while the first request still runs', async () => {
    const inner = openMemoryStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const entered = new Promise<void>((resolve) => (reached = resolve));
    const store = Object.create(inner) as typeof inner;
    store.claim = async (key, value) => {
      if (key.startsWith('sandbox:session:')) {
        reached();
        await gate;
      }
      return inner.claim(key, value);
    };
    const slow = await serveMerchant({ port: 0, store, tokens: { t: 'agent' } });
    try {
      const headers = { Authorization: 'Bearer t', 'API-Version': '2026-04-17', 'Idempotency-Key': 'same', 'Content-Type': 'application/json' };
      const first = fetch(`${slow.url}/checkout_sessions`, { method: 'POST', headers, body: JSON.stringify(cart) });
      await entered;
      const second = await fetch(`${slow.url}/checkout_sessions`, { method: 'POST', headers, body: JSON.stringify(cart) });
      expect(second.status).toBe(409);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(((await second.json()) as { code: string }).code).toBe('idempotency_in_flight');
      release();
      expect((await first).status).toBe(201);
    } finally {
      await slow.close();
    }
  });
});
