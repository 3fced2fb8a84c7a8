// Issue 14: the reference merchant also serves UCP 2026-04-08 (REST under /ucp, MCP at /ucp/mcp, discovery at
// /.well-known/ucp), every answer valid against the official JSON Schemas, with UCP's idempotency rules
// (signatures.md): a duplicate returns the cached answer, another body under the same key is a conflict, a
// failing store fails closed; and its complete_in_progress fault charges once, later.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { UcpMerchant } from '../src/backends/sandbox/ucp-merchant.js';
import { openMemoryStore } from '../src/store/memory.js';
import { StoreUnavailableError, type Store } from '../src/store/store.js';
import { ucpSpecAvailable } from './support/services.js';
import { loadUcpSchemas, type UcpSchemas } from './support/ucp-schemas.js';

const present = ucpSpecAvailable();
const PROFILE = 'https://agent.example/profiles/once-checkout.json';
const DESTINATION = { first_name: 'Ada', last_name: 'Lovelace', street_address: '1 Analytical Way', address_locality: 'London', address_region: 'LDN', address_country: 'GB', postal_code: 'N1 9GU' };
const CART = { line_items: [{ item: { id: 'sku_mug' }, quantity: 2 }], fulfillment: { methods: [{ type: 'shipping', destinations: [DESTINATION] }] } };
const payWith = (token: string) => ({ payment: { instruments: [{ id: 'instr_1', handler_id: 'sandbox', type: 'card', selected: true, credential: { type: 'token', token } }] } });

type Json = Record<string, any>;

describe.skipIf(!present)('the reference merchant speaks UCP 2026-04-08 (issue 14)', () => {
  let schemas: UcpSchemas;
  let server: MerchantServer;
  let clock = Date.now();
  let checked = 0;

  beforeAll(async () => {
    schemas = loadUcpSchemas();
    server = await serveMerchant({ port: 0, store: openMemoryStore(), now: () => clock, completeDelayMs: 5_000 });
  });
  afterAll(async () => {
    await server?.close();
    console.info(`UCP merchant: ${checked} answers validated against the UCP 2026-04-08 schemas`);
  });

  function conforms(status: number, body: Json): void {
    if (status >= 200 && status < 300) {
      expect(schemas.response(body), JSON.stringify(body)).toEqual([]);
    } else {
      // Protocol errors: `{code, content}` (overview.md, Error Handling).
      expect(typeof body.code).toBe('string');
      expect(typeof body.content).toBe('string');
    }
    checked += 1;
  }

  async function rest(method: string, path: string, body?: unknown, headers: Record<string, string | null> = {}) {
    const sent: Record<string, string> = { 'Content-Type': 'application/json', 'UCP-Agent': `profile="${PROFILE}"`, 'Request-Id': randomUUID() };
    if (method !== 'GET') sent['Idempotency-Key'] = randomUUID();
    for (const [k, v] of Object.entries(headers)) {
      if (v === null) delete sent[k];
      else sent[k] = v;
    }
    const response = await fetch(`${server.url}/ucp${path}`, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await response.json()) as Json;
    conforms(response.status, json);
    return { status: response.status, body: json, headers: response.headers };
  }

  it('issue 14: discovery: /.well-known/ucp is a valid business profile naming the REST and MCP endpoints', async () => {
    const response = await fetch(`${server.url}/.well-known/ucp`);
    const profile = (await response.json()) as Json;
    expect(schemas.businessProfile(profile)).toEqual([]);
    const services = profile.ucp.services['dev.ucp.shopping'] as Json[];
    expect(services.map((s) => [s.transport, s.endpoint])).toEqual([
      ['rest', `${server.url}/ucp`],
      ['mcp', `${server.url}/ucp/mcp`],
    ]);
    expect(Object.keys(profile.ucp.capabilities)).toContain('dev.ucp.shopping.checkout');
  });

  it('issue 14: REST: create → update → decline → complete → repeat; every answer validates; one order, one charge', async () => {
    const created = await rest('POST', '/checkout-sessions', CART);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'ready_for_complete', currency: 'USD' });
    expect(created.body.totals.find((t: Json) => t.type === 'total').amount).toBe(3545);
    expect(created.body.continue_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ucp\/checkout\//);
    const id = created.body.id as string;

    const read = await rest('GET', `/checkout-sessions/${id}`);
    expect(read.body.id).toBe(id);

    // Full replacement: express shipping chosen in the group the business named, buyer added.
    const update = { ...CART, buyer: { email: 'ada@example.com' }, fulfillment: { methods: [{ type: 'shipping', line_item_ids: ['li_sku_mug'], destinations: [DESTINATION], groups: [{ id: 'group_1', selected_option_id: 'ship_express' }] }] } };
    expect(schemas.request('update', update)).toEqual([]);
    const updated = await rest('PUT', `/checkout-sessions/${id}`, update);
    expect(updated.body.buyer).toEqual({ email: 'ada@example.com' });
    expect(updated.body.fulfillment.methods[0].groups[0].selected_option_id).toBe('ship_express');

    const declined = await rest('POST', `/checkout-sessions/${id}/complete`, payWith('tok_sandbox_decline'));
    expect(declined.body.status).toBe('ready_for_complete');
    expect(declined.body.messages).toContainEqual(expect.objectContaining({ type: 'error', code: 'payment_failed', severity: 'recoverable' }));

    const key = randomUUID();
    const completed = await rest('POST', `/checkout-sessions/${id}/complete`, payWith('tok_sandbox_ok'), { 'Idempotency-Key': key });
    expect(completed.body.status).toBe('completed');
    expect(completed.body.order.id).toMatch(/^ord_/);
    expect(completed.body.continue_url).toBeUndefined();
    const again = await rest('POST', `/checkout-sessions/${id}/complete`, payWith('tok_sandbox_ok'), { 'Idempotency-Key': key });
    expect(again.body).toEqual(completed.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const canceled = await rest('POST', `/checkout-sessions/${id}/cancel`, {});
    expect(canceled.body.status).toBe('completed');
    expect(canceled.body.messages).toContainEqual(expect.objectContaining({ code: 'checkout_not_modifiable', severity: 'unrecoverable' }));
    expect(await server.merchant.ordersFor(id)).toHaveLength(1);
    expect(await server.merchant.chargesFor(id)).toHaveLength(1);
  });

  it('issue 14: REST: an incomplete checkout says what is missing with severities; unknown items and ids are error responses', async () => {
    const bare = await rest('POST', '/checkout-sessions', { line_items: [{ item: { id: 'sku_tshirt' }, quantity: 1 }] });
    expect(bare.body.status).toBe('incomplete');
    expect(bare.body.messages).toContainEqual(expect.objectContaining({ type: 'error', code: 'missing', severity: 'recoverable', path: '$.fulfillment.methods[0].destinations' }));
    const unknown = await rest('POST', '/checkout-sessions', { line_items: [{ item: { id: 'sku_nope' }, quantity: 1 }] });
    expect(unknown.body).toMatchObject({ ucp: { status: 'error' }, messages: [{ code: 'item_unavailable', severity: 'unrecoverable' }] });
    const missing = await rest('GET', '/checkout-sessions/cs_missing');
    expect(missing.body.messages[0].code).toBe('not_found');
    const digital = await rest('POST', '/checkout-sessions', { line_items: [{ item: { id: 'sku_ebook' }, quantity: 1 }] });
    expect(digital.body.status).toBe('ready_for_complete');
    expect(digital.body.fulfillment).toBeUndefined();
  });

  it('issue 14: REST: UCP-Agent is required, and so is a UUID Idempotency-Key on every state change', async () => {
    expect((await rest('POST', '/checkout-sessions', CART, { 'UCP-Agent': null })).body.code).toBe('invalid_profile_url');
    expect((await rest('POST', '/checkout-sessions', CART, { 'Idempotency-Key': null })).body.code).toBe('idempotency_key_required');
    expect((await rest('POST', '/checkout-sessions', CART, { 'Idempotency-Key': 'oc_not_a_uuid' })).body.code).toBe('invalid_idempotency_key');
  });

  it('issue 14: idempotency: the same key and body replays the cached answer; another body under it is 409, nothing runs', async () => {
    const key = randomUUID();
    const first = await rest('POST', '/checkout-sessions', CART, { 'Idempotency-Key': key });
    const sessions = (await server.merchant.stats()).sessions;
    const second = await rest('POST', '/checkout-sessions', CART, { 'Idempotency-Key': key });
    expect(second.body.id).toBe(first.body.id);
    const other = await rest('POST', '/checkout-sessions', { ...CART, line_items: [{ item: { id: 'sku_cap' }, quantity: 1 }] }, { 'Idempotency-Key': key });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_conflict');
    expect((await server.merchant.stats()).sessions).toBe(sessions);
  });

  it('issue 14: idempotency: a store that fails fails closed with 503 and runs nothing', async () => {
    const inner = openMemoryStore();
    const store = Object.create(inner) as Store;
    store.claim = async () => {
      throw new StoreUnavailableError('disk gone');
    };
    const merchant = new UcpMerchant({ store });
    const { answer } = await merchant.handle({ operation: 'create', body: CART, identity: 'a', idempotencyKey: randomUUID(), keyRequired: true });
    expect(answer).toMatchObject({ kind: 'protocol_error', status: 503, code: 'store_unavailable' });
    let n = 0;
    for await (const _ of inner.entries('sandbox:session:')) n += 1;
    expect(n).toBe(0);
  });

  it('issue 14: MCP: the five tools over Streamable HTTP; results are valid checkouts, protocol errors are JSON-RPC errors with their HTTP status', async () => {
    const client = new Client({ name: 'ucp-merchant-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/ucp/mcp`)));
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['cancel_checkout', 'complete_checkout', 'create_checkout', 'get_checkout', 'update_checkout']);
      const meta = (key?: string) => ({ 'ucp-agent': { profile: PROFILE }, ...(key ? { 'idempotency-key': key } : {}) });
      const call = async (name: string, args: Json) => {
        expect(schemas.mcpArguments(name, args)).toEqual([]);
        const result = await client.callTool({ name, arguments: args });
        conforms(200, result.structuredContent as Json);
        return result.structuredContent as Json;
      };
      const created = await call('create_checkout', { meta: meta(randomUUID()), checkout: CART });
      expect(created.status).toBe('ready_for_complete');
      const completed = await call('complete_checkout', { meta: meta(randomUUID()), id: created.id, checkout: payWith('tok_sandbox_ok') });
      expect(completed.order.id).toMatch(/^ord_/);
      expect((await call('get_checkout', { meta: meta(), id: created.id })).status).toBe('completed');
      const canceled = await call('cancel_checkout', { meta: meta(randomUUID()), id: (await call('create_checkout', { meta: meta(), checkout: CART })).id });
      expect(canceled.status).toBe('canceled');

      // Complete without its required key: a JSON-RPC error sent with HTTP 400, nothing charged.
      const refused = await client.callTool({ name: 'complete_checkout', arguments: { meta: meta(), id: created.id, checkout: payWith('tok_sandbox_ok') } }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 400 });
      expect(String((refused as Error).message)).toContain('idempotency_key_required');
      const noProfile = await client.callTool({ name: 'get_checkout', arguments: { meta: {}, id: created.id } }).catch((e: unknown) => e);
      expect(String((noProfile as Error).message)).toMatch(/-32001.*invalid_profile_url/);
      expect(await server.merchant.chargesFor(created.id)).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('issue 14: the complete_in_progress fault: complete answers complete_in_progress; the charge is made once, after the delay, on a read', async () => {
    const merchant = new UcpMerchant({ store: openMemoryStore(), now: () => clock, completeDelayMs: 5_000 });
    const create = await merchant.handle({ operation: 'create', body: CART, identity: 'a', idempotencyKey: randomUUID(), keyRequired: true });
    const id = (create.answer as { body: Json }).body.id as string;
    const key = randomUUID();
    const complete = () => merchant.handle({ operation: 'complete', id, body: payWith('tok_sandbox_ok'), identity: 'a', idempotencyKey: key, keyRequired: true, completeInProgress: true });
    const first = await complete();
    const body = (first.answer as { body: Json }).body;
    expect(schemas.response(body)).toEqual([]);
    expect(body.status).toBe('complete_in_progress');
    expect(body.order).toBeUndefined();
    const read = async () => (await merchant.handle({ operation: 'get', id, identity: 'a', keyRequired: false })).answer as { body: Json };
    clock += 4_999;
    expect((await read()).body.status).toBe('complete_in_progress');
    clock += 1;
    const settled = (await read()).body;
    expect(settled.status).toBe('completed');
    expect(settled.order.id).toMatch(/^ord_/);
    expect(schemas.response(settled)).toEqual([]);
    // A resend of the complete replays its first answer; the checkout itself shows the order, charged once.
    expect(((await complete()).answer as { body: Json }).body.status).toBe('complete_in_progress');
    let charges = 0;
    for await (const [key] of (merchant as unknown as { store: Store }).store.entries('sandbox:charge:')) if (key.includes(id)) charges += 1;
    expect(charges).toBe(1);
  });
});
