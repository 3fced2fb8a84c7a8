// Every body the sandbox merchant sends, checked against the official ACP 2026-04-17 JSON Schema, and the
// official example requests run against it. The spec folder comes from ACP_SPEC_DIR (default ../shared/acp-spec).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { openMemoryStore } from '../src/store/memory.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { AcpBackend } from '../src/backends/acp/acp-backend.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { AcpClient } from '../src/backends/acp/acp-client.js';
import { McpTransport } from '../src/backends/acp/mcp-transport.js';
import { RestTransport } from '../src/backends/acp/rest-transport.js';
import type { AcpCall, AcpReply, AcpTransport } from '../src/backends/acp/transport.js';
import { ACP_VERSIONS, shapeOf, type AcpVersion } from '../src/backends/acp/versions.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const specDir = resolve(root, process.env.ACP_SPEC_DIR ?? '../shared/acp-spec');
const schemaPath = join(specDir, 'spec/2026-04-17/json-schema/schema.agentic_checkout.json');
const examplesPath = join(specDir, 'examples/2026-04-17/examples.agentic_checkout.json');
const present = existsSync(schemaPath) && existsSync(examplesPath);

if (!present && process.env.CI === 'true') {
  describe('ACP conformance', () => {
    it('needs the ACP spec folder', () => {
      throw new Error(`ACP spec not found at ${specDir}: set ACP_SPEC_DIR to the acp-spec folder`);
    });
  });
} else if (!present) {
  console.warn(`SKIPPING ACP conformance tests: no ACP spec at ${specDir}; set ACP_SPEC_DIR to the acp-spec folder`);
}

type Json = Record<string, any>;

describe.skipIf(!present)('ACP 2026-04-17 conformance of the sandbox merchant', () => {
  let validators: Record<string, ValidateFunction>;
  let examples: Json;
  let server: MerchantServer;
  let n = 0;
  let checked = 0;

  function validate(def: string, body: unknown): void {
    const valid = validators[def](body);
    if (!valid) {
      throw new Error(`${def} schema violation: ${JSON.stringify(validators[def].errors, null, 1)}\nbody: ${JSON.stringify(body)}`);
    }
    checked += 1;
  }

  /** Sessions must be CheckoutSession (WithOrder once completed); anything else must be the flat Error. */
  function conforms(status: number, body: Json): void {
    if (status >= 200 && status < 300) {
      validate(body.order ? 'CheckoutSessionWithOrder' : 'CheckoutSession', body);
      if (body.status === 'completed') expect(body.order).toBeDefined();
    } else {
      validate('Error', body);
    }
  }

  async function call(path: string, init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string | null> } = {}) {
    const method = init.method ?? 'POST';
    const headers: Record<string, string> = {
      Authorization: 'Bearer conformance',
      'API-Version': '2026-04-17',
      'Content-Type': 'application/json',
    };
    if (method === 'POST') headers['Idempotency-Key'] = `conf-${++n}`;
    for (const [k, v] of Object.entries(init.headers ?? {})) {
      if (v === null) delete headers[k];
      else headers[k] = v;
    }
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: method === 'POST' ? (init.raw ?? JSON.stringify(init.body ?? {})) : undefined,
    });
    const body = (await response.json()) as Json;
    conforms(response.status, body);
    return { status: response.status, body };
  }

  beforeAll(async () => {
    const bundle = JSON.parse(readFileSync(schemaPath, 'utf8')) as Json;
    examples = JSON.parse(readFileSync(examplesPath, 'utf8')) as Json;
    // Both are CommonJS: under NodeNext the default import is module.exports, whose `default` is the export.
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    const addFormats = addFormatsModule.default;
    addFormats(ajv);
    ajv.addSchema(bundle);
    validators = {};
    for (const def of [
      'CheckoutSession',
      'CheckoutSessionWithOrder',
      'Error',
      'CheckoutSessionCreateRequest',
      'CheckoutSessionUpdateRequest',
      'CheckoutSessionCompleteRequest',
      'CancelSessionRequest',
    ]) {
      const fn = ajv.getSchema(`${bundle.$id}#/$defs/${def}`);
      if (!fn) throw new Error(`no $defs/${def} in ${schemaPath}`);
      validators[def] = fn;
    }
    server = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { conformance: 'conformance' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const address = { name: 'Ada', line_one: '1 St', city: 'Springfield', state: 'IL', country: 'US', postal_code: '62701' };
  const pay = (token: string) => ({
    payment_data: { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token } } },
  });
  const cart = (items: { id: string }[], withAddress = true) => ({
    line_items: items,
    currency: 'usd',
    capabilities: {},
    ...(withAddress ? { fulfillment_details: { address } } : {}),
  });

  it('session bodies through the whole flow conform: create, update, complete (with order), get, cancel', async () => {
    const created = await call('/checkout_sessions', { body: cart([{ id: 'sku_tshirt' }, { id: 'sku_tshirt' }, { id: 'sku_ebook' }], false) });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await call(`/checkout_sessions/${id}`, { body: { buyer: { email: 'ada@example.com', first_name: 'Ada' } } });
    await call(`/checkout_sessions/${id}`, { body: { fulfillment_details: { name: 'Ada', email: 'ada@example.com', address } } });
    await call(`/checkout_sessions/${id}`, {
      body: { selected_fulfillment_options: [{ type: 'shipping', option_id: 'ship_express', item_ids: ['li_sku_tshirt'] }] },
    });
    await call(`/checkout_sessions/${id}`, { body: { discounts: { codes: ['WELCOME'] } } });
    const done = await call(`/checkout_sessions/${id}/complete`, { body: pay('tok_sandbox_ok') });
    expect(done.body.status).toBe('completed');
    await call(`/checkout_sessions/${id}`, { method: 'GET' });
    const other = await call('/checkout_sessions', { body: cart([{ id: 'sku_ebook' }], false) });
    expect(other.body.status).toBe('ready_for_payment');
    expect((await call(`/checkout_sessions/${other.body.id}/cancel`, { body: {} })).body.status).toBe('canceled');
  });

  it('business errors conform: out of stock, declined, unknown token, not ready (messages[] in a 2xx session)', async () => {
    const soldOut = await call('/checkout_sessions', { body: cart([{ id: 'sku_sold_out' }]) });
    await call(`/checkout_sessions/${soldOut.body.id}/complete`, { body: pay('tok_sandbox_ok') });
    const ready = await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]) });
    const declined = await call(`/checkout_sessions/${ready.body.id}/complete`, { body: pay('tok_sandbox_decline') });
    expect(declined.body.messages[0].code).toBe('payment_declined');
    await call(`/checkout_sessions/${ready.body.id}/complete`, { body: pay('spt_unknown') });
    const bare = await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }], false) });
    await call(`/checkout_sessions/${bare.body.id}/complete`, { body: pay('tok_sandbox_ok') });
  });

  it('protocol error bodies conform to the flat Error: 400, 401, 404, 405, 422 (and replays)', async () => {
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]), headers: { Authorization: null } })).status).toBe(401);
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]), headers: { 'API-Version': '1999-01-01' } })).status).toBe(400);
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]), headers: { 'Idempotency-Key': null } })).status).toBe(400);
    expect((await call('/checkout_sessions', { raw: '{not json' })).status).toBe(400);
    expect((await call('/checkout_sessions', { body: { currency: 'usd' } })).status).toBe(400);
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_nope' }]) })).status).toBe(400);
    expect((await call('/checkout_sessions/cs_missing', { method: 'GET' })).status).toBe(404);
    const s = await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]) });
    await call(`/checkout_sessions/${s.body.id}/cancel`, { body: {} });
    expect((await call(`/checkout_sessions/${s.body.id}/cancel`, { body: {} })).status).toBe(405);
    const key = { 'Idempotency-Key': 'conf-conflict' };
    await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]), headers: key });
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]), headers: key })).status).toBe(201);
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_cap' }]), headers: key })).status).toBe(422);
  });

  it('the in-process SandboxBackend returns the same conforming sessions', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    const ctx = (k: string) => ({ idempotencyKey: k, attempt: 1, requestId: k });
    const created = await backend.create({ items: [{ id: 'sku_cap', quantity: 2 }], currency: 'usd', fulfillment_details: { address } }, ctx('a'));
    if (created.kind !== 'succeeded') throw new Error('create failed');
    validate('CheckoutSession', created.checkout);
    const done = await backend.complete(created.checkout.id, pay('tok_sandbox_ok'), ctx('b'));
    if (done.kind !== 'succeeded') throw new Error('complete failed');
    validate('CheckoutSessionWithOrder', done.checkout);
  });

  it('every request body the acp backend sends is a valid ACP request (recorded by the fault proxy)', async () => {
    const proxy = await startFaultProxy({ target: server.url });
    try {
      const acp = new AcpBackend({ endpoint: { transport: 'rest', url: new URL(proxy.url) }, apiKey: 'conformance', apiVersion: '2026-04-17', timeoutMs: 5_000 });
      let k = 0;
      const ctx = () => ({ idempotencyKey: `acp-conf-${++k}`, attempt: 1, requestId: `acp-conf-${k}` });
      const buyer = { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' };
      const created = await acp.create(
        { items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }], currency: 'usd', buyer, fulfillment_details: { name: 'Ada', email: 'ada@example.com', address } },
        ctx(),
      );
      if (created.kind !== 'succeeded') throw new Error(`create: ${JSON.stringify(created)}`);
      const id = created.checkout.id;
      expect(created.checkout.line_items.find((l) => l.item.id === 'sku_tshirt')?.quantity).toBe(2);
      for (const input of [
        { items: [{ id: 'sku_tshirt', quantity: 3 }] },
        { buyer: { email: 'ada@example.com', full_name: 'Ada Lovelace' } },
        { fulfillment_details: { name: 'Ada', address } },
        { selected_fulfillment_options: [{ type: 'shipping' as const, option_id: 'ship_express', item_ids: ['li_sku_tshirt'] }] },
        { selected_fulfillment_options: null },
        { discounts: { codes: ['WELCOME'] } },
        { discounts: null },
      ]) {
        expect((await acp.update(id, input, ctx())).kind).toBe('succeeded');
      }
      const payment = (token: string) => ({ handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token } } });
      expect(await acp.complete(id, { payment_data: payment('tok_sandbox_decline') }, ctx())).toMatchObject({ code: 'payment_declined' });
      expect((await acp.complete(id, { payment_data: payment('tok_sandbox_ok'), buyer }, ctx())).kind).toBe('succeeded');
      for (const input of [{ reason: 'Found it cheaper. '.repeat(40) }, {}]) {
        const other = await acp.create({ items: [{ id: 'sku_ebook', quantity: 1 }], currency: 'usd' }, ctx());
        if (other.kind !== 'succeeded') throw new Error('create failed');
        expect((await acp.cancel(other.checkout.id, input, ctx())).kind).toBe('succeeded');
      }
      const posts = proxy.log.filter((e) => e.method === 'POST');
      expect(posts).toHaveLength(14);
      for (const post of posts) {
        const kind = post.path === '/checkout_sessions' ? 'create' : post.path.endsWith('/complete') ? 'complete' : post.path.endsWith('/cancel') ? 'cancel' : 'update';
        validate(schemaOf[kind], post.body);
        expect(post.upstreamStatus, post.path).toBeLessThan(300);
      }
    } finally {
      await proxy.close();
    }
  });

  // The examples use ids from an imaginary shop; we map them onto the sandbox catalog and tokens, one to one.
  const idMap: Record<string, string> = {
    item_123: 'sku_tshirt',
    fulfillment_option_123: 'ship_standard',
    fulfillment_option_456: 'ship_express',
  };
  function mapped(value: unknown): unknown {
    if (typeof value === 'string') return idMap[value] ?? (/^(spt|vt)_/.test(value) ? 'tok_sandbox_ok' : value);
    if (Array.isArray(value)) return value.map(mapped);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapped(v)]));
    }
    return value;
  }
  function requestExamples(kind: 'create' | 'update' | 'complete' | 'cancel'): [string, Json][] {
    return Object.entries(examples).filter(([name]) => name.startsWith(kind) && name.includes('_request')) as [string, Json][];
  }
  const schemaOf = {
    create: 'CheckoutSessionCreateRequest',
    update: 'CheckoutSessionUpdateRequest',
    complete: 'CheckoutSessionCompleteRequest',
    cancel: 'CancelSessionRequest',
  } as const;

  it('the official example requests are valid ACP, and the merchant accepts each (ids mapped to the sandbox catalog)', async () => {
    const byKind = {
      create: requestExamples('create'),
      update: requestExamples('update'),
      complete: requestExamples('complete'),
      cancel: requestExamples('cancel'),
    };
    expect(byKind.create.length).toBeGreaterThanOrEqual(2);
    expect(byKind.update.length).toBeGreaterThanOrEqual(1);
    expect(byKind.complete.length).toBeGreaterThanOrEqual(3);
    for (const [kind, list] of Object.entries(byKind) as [keyof typeof schemaOf, [string, Json][]][]) {
      for (const [, example] of list) validate(schemaOf[kind], example);
    }
    const baseCreate = mapped(examples.create_checkout_session_request) as Json;
    const fresh = async () => (await call('/checkout_sessions', { body: baseCreate })).body.id as string;

    for (const [name, example] of byKind.create) {
      const r = await call('/checkout_sessions', { body: mapped(example) });
      expect(r.status, name).toBe(201);
    }
    for (const [name, example] of byKind.update) {
      const r = await call(`/checkout_sessions/${await fresh()}`, { body: mapped(example) });
      expect(r.status, name).toBe(200);
      expect(r.body.selected_fulfillment_options[0].option_id, name).toBe('ship_express');
    }
    for (const [name, example] of byKind.complete) {
      const r = await call(`/checkout_sessions/${await fresh()}/complete`, { body: mapped(example) });
      expect(r.status, name).toBe(200);
      // The example whose 3-D Secure outcome is `denied` is declined; all the others complete with an order.
      if (example.authentication_result?.outcome === 'denied') expect(r.body.messages[0].code, name).toBe('payment_declined');
      else expect(r.body.order, name).toBeDefined();
    }
    for (const [name, example] of byKind.cancel) {
      const r = await call(`/checkout_sessions/${await fresh()}/cancel`, { body: mapped(example) });
      expect(r.status, name).toBe(200);
      expect(r.body.status, name).toBe('canceled');
    }
  });

  it('an example create with its own unknown item id gets the spec\'s own error_400_invalid_item answer', async () => {
    const r = await call('/checkout_sessions', { body: examples.create_checkout_session_request });
    expect(r.status).toBe(400);
    const { type, code, message } = examples.error_400_invalid_item as Json;
    expect(r.body).toMatchObject({ type, code, message: message.replace('invalid_item', 'item_123') });
    expect(r.body.param).toBe('$.line_items[0].id');
  });

  it('the idempotency error bodies match the spec examples word for word', async () => {
    const key = { 'Idempotency-Key': 'conf-words' };
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]), headers: { 'Idempotency-Key': null } })).body).toEqual(
      examples.error_400_idempotency_key_required,
    );
    await call('/checkout_sessions', { body: cart([{ id: 'sku_mug' }]), headers: key });
    expect((await call('/checkout_sessions', { body: cart([{ id: 'sku_cap' }]), headers: key })).body).toEqual(
      examples.error_422_idempotency_conflict,
    );
    expect(checked).toBeGreaterThan(40);
  });
});

// Issue 13: every released version, over REST and over ACP's MCP binding. Each version's bundle has the same $id,
// so each gets its own validator set.
/** 2025-09-29 writes draft-04's `minimum: 0, exclusiveMinimum: true`; in 2020-12 that is `exclusiveMinimum: 0`. */
function draft04Bounds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(draft04Bounds);
  if (!node || typeof node !== 'object') return node;
  const out: Json = Object.fromEntries(Object.entries(node).map(([key, v]) => [key, draft04Bounds(v)]));
  if (out.exclusiveMinimum === true && typeof out.minimum === 'number') {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  }
  return out;
}

function validatorsOf(version: AcpVersion): Record<string, ValidateFunction> {
  const path = join(specDir, `spec/${version}/json-schema/schema.agentic_checkout.json`);
  const bundle = draft04Bounds(JSON.parse(readFileSync(path, 'utf8'))) as Json;
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormatsModule.default(ajv);
  ajv.addSchema(bundle);
  const out: Record<string, ValidateFunction> = {};
  for (const def of Object.keys(bundle.$defs)) {
    const fn = ajv.getSchema(`${bundle.$id}#/$defs/${def}`);
    if (fn) out[def] = fn;
  }
  return out;
}

interface Exchange {
  call: AcpCall;
  reply: AcpReply;
}

/** A transport that keeps every call and its reply, to check both against the schema afterwards. */
function recording(inner: AcpTransport, log: Exchange[]): AcpTransport {
  return {
    description: inner.description,
    discover: () => inner.discover(),
    close: () => inner.close?.() ?? Promise.resolve(),
    async send(call) {
      const reply = await inner.send(call);
      log.push({ call, reply });
      return reply;
    },
  };
}

const REQUEST_SCHEMA = {
  create: 'CheckoutSessionCreateRequest',
  update: 'CheckoutSessionUpdateRequest',
  complete: 'CheckoutSessionCompleteRequest',
  cancel: 'CancelSessionRequest',
} as const;

describe.skipIf(!present)('issue 13: ACP conformance of every released version, over REST and over the MCP binding', () => {
  let server: MerchantServer;
  const validators = new Map<AcpVersion, Record<string, ValidateFunction>>();
  const ADDRESS = { name: 'Ada Lovelace', line_one: '1 St', city: 'Springfield', state: 'IL', country: 'US', postal_code: '62701' };
  const BUYER = { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' };
  const card = (token: string, handler?: string) => ({
    payment_data: { ...(handler ? { handler_id: handler } : {}), instrument: { type: 'card', credential: { type: 'spt', token } } },
  });
  let k = 0;
  const ctx = () => ({ idempotencyKey: `v-conf-${++k}`, attempt: 1, requestId: `v-conf-${k}` });

  beforeAll(async () => {
    for (const version of ACP_VERSIONS) validators.set(version, validatorsOf(version));
    server = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { conformance: 'conformance' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  function check(version: AcpVersion, def: string, body: unknown, what: string): void {
    if (version === '2025-09-29' && def === 'CheckoutSessionWithOrder') {
      // Upstream defect: 2025-09-29's CheckoutSessionBase forbids additional properties and has no `order`, so its
      // CheckoutSessionWithOrder can match nothing. We check the session and its order apart instead.
      const { order, ...session } = body as Json;
      check(version, 'CheckoutSession', session, what);
      check(version, 'Order', order, `${what} (order)`);
      return;
    }
    const validate = validators.get(version)![def];
    if (!validate) throw new Error(`no ${def} in ${version}`);
    if (!validate(body)) throw new Error(`${version} ${def} violation (${what}): ${JSON.stringify(validate.errors?.slice(0, 3), null, 1)}\nbody: ${JSON.stringify(body)}`);
  }

  function conformsAll(version: AcpVersion, log: Exchange[]): number {
    let n = 0;
    for (const { call, reply } of log) {
      const what = `${call.operation} ${call.id ?? ''}`;
      expect(call.apiVersion, what).toBe(version);
      if (call.operation !== 'get' && !(call.operation === 'cancel' && version === '2025-09-29')) {
        check(version, REQUEST_SCHEMA[call.operation], call.body, `request ${what}`);
        n += 1;
      }
      if (reply.kind !== 'reply') throw new Error(`no reply to ${what}: ${reply.reason}`);
      const body = reply.body as Json;
      if (reply.status < 300) check(version, body.order ? 'CheckoutSessionWithOrder' : 'CheckoutSession', body, `answer ${what}`);
      else check(version, 'Error', body, `error ${reply.status} ${what}`);
      n += 1;
    }
    return n;
  }

  for (const version of ACP_VERSIONS) {
    for (const kind of ['rest', 'mcp'] as const) {
      it(`${version} over ${kind}: every request sent and every answer and error received validates against the ${version} schema; a purchase completes`, async () => {
        const log: Exchange[] = [];
        const inner =
          kind === 'rest'
            ? new RestTransport({ baseUrl: new URL(server.url), apiKey: 'conformance', timeoutMs: 5_000 })
            : new McpTransport({ url: new URL(`${server.url}/acp/mcp`), apiKey: 'conformance', timeoutMs: 5_000 });
        const acp = new AcpClient({ transport: recording(inner, log), version, secrets: ['conformance'] });
        const handlers = shapeOf(version) === 'handlers';
        try {
          const created = await acp.create(
            { items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }], currency: 'usd', buyer: BUYER, fulfillment_details: { name: 'Ada', email: 'ada@example.com', address: ADDRESS } },
            ctx(),
          );
          if (created.kind !== 'succeeded') throw new Error(JSON.stringify(created));
          const id = created.checkout.id;
          expect(created.checkout.line_items.map((l) => [l.item.id, l.quantity])).toEqual([['sku_tshirt', 2], ['sku_mug', 1]]);
          expect(created.checkout.status).toBe('ready_for_payment');
          const updates = [
            { items: [{ id: 'sku_tshirt', quantity: 3 }] },
            { buyer: { email: 'ada@example.com', full_name: 'Ada Lovelace' } },
            { fulfillment_details: { address: ADDRESS } },
            { selected_fulfillment_options: [{ type: 'shipping' as const, option_id: 'ship_express', item_ids: ['li_sku_tshirt'] }] },
            ...(handlers ? [{ discounts: { codes: ['WELCOME'] } }, { discounts: null }, { selected_fulfillment_options: null }] : []),
          ];
          for (const input of updates) {
            const updated = await acp.update(id, input, ctx());
            expect(updated.kind, JSON.stringify(updated)).toBe('succeeded');
          }
          expect((await acp.get(id)).kind).toBe('succeeded');
          expect(await acp.complete(id, card('tok_sandbox_decline', 'sandbox'), ctx())).toMatchObject({ kind: 'failed', code: 'payment_declined' });
          // Without a handler_id: the one card handler the session advertises (2026-01-30 on; before, no handlers).
          const done = await acp.complete(id, { ...card('tok_sandbox_ok'), buyer: BUYER }, ctx());
          if (done.kind !== 'succeeded') throw new Error(JSON.stringify(done));
          expect(done.checkout.order?.checkout_session_id).toBe(id);
          expect(await server.merchant.ordersFor(id)).toHaveLength(1);
          expect(await acp.cancel(id, {}, ctx())).toMatchObject({ kind: 'failed', code: 'checkout_already_completed' });

          const bare = await acp.create({ items: [{ id: 'sku_cap', quantity: 1 }], currency: 'usd' }, ctx());
          if (bare.kind !== 'succeeded') throw new Error(JSON.stringify(bare));
          // Issue 13 case 4: a session missing what it needs says so.
          expect(bare.checkout.status).toBe('not_ready_for_payment');
          expect(bare.checkout.messages.map((m) => m.type === 'error' && m.code)).toContain('missing');
          expect(await acp.cancel(bare.checkout.id, { reason: 'Found it cheaper.' }, ctx())).toMatchObject({ kind: 'succeeded' });
          expect(await acp.get('cs_missing')).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
          const key = ctx();
          await acp.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, key);
          // A key reused with another body: 422 since 2026-04-17, 409 request_not_idempotent before; the same to us.
          expect(await acp.create({ items: [{ id: 'sku_cap', quantity: 1 }], currency: 'usd' }, key)).toMatchObject({ kind: 'failed', code: 'idempotency_conflict' });
          const conflict = log.at(-1)!.reply;
          expect(conflict.kind === 'reply' && (conflict.body as Json).type).toBe(version === '2026-04-17' ? 'invalid_request' : 'request_not_idempotent');
        } finally {
          await inner.close?.();
        }
        expect(conformsAll(version, log)).toBeGreaterThan(20);
      });
    }

    it(`${version}: the official example requests are accepted over REST (ids mapped to the sandbox catalog)`, async () => {
      const path = join(specDir, `examples/${version}/examples.agentic_checkout.json`);
      const all = JSON.parse(readFileSync(path, 'utf8')) as Json;
      // 2025-09-29's create buys 2.5 of an item: the sandbox sells coffee beans by the kg.
      const ids: Record<string, string> = {
        item_123: version === '2025-09-29' ? 'sku_coffee_kg' : 'sku_tshirt',
        fulfillment_option_123: 'ship_standard',
        fulfillment_option_456: 'ship_express',
      };
      const map = (value: unknown): unknown => {
        if (typeof value === 'string') return ids[value] ?? (/^(spt|vt)_/.test(value) ? 'tok_sandbox_ok' : value);
        if (Array.isArray(value)) return value.map(map);
        if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, map(v)]));
        return value;
      };
      let n = 0;
      const post = async (path: string, body: unknown) => {
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { Authorization: 'Bearer conformance', 'API-Version': version, 'Idempotency-Key': `ex-${version}-${++n}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as Json };
      };
      const requests = Object.entries(all).filter(([name]) => /_request/.test(name) && /^(create|update|complete|cancel)/.test(name));
      expect(requests.length).toBeGreaterThanOrEqual(3);
      const fresh = async () => (await post('/checkout_sessions', map(all.create_checkout_session_request))).body.id as string;
      for (const [name, example] of requests) {
        const kind = name.split('_')[0] as keyof typeof REQUEST_SCHEMA;
        if (validators.get(version)![REQUEST_SCHEMA[kind]]) check(version, REQUEST_SCHEMA[kind], example, `example ${name}`);
        const path = kind === 'create' ? '/checkout_sessions' : kind === 'update' ? `/checkout_sessions/${await fresh()}` : `/checkout_sessions/${await fresh()}/${kind}`;
        const answer = await post(path, map(example));
        expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
        check(version, answer.body.order ? 'CheckoutSessionWithOrder' : 'CheckoutSession', answer.body, `answer to ${name}`);
        if (kind === 'complete') {
          if ((example as Json).authentication_result?.outcome === 'denied') expect(answer.body.messages[0].code, name).toBe('payment_declined');
          else expect(answer.body.order, name).toBeDefined();
        }
        if (kind === 'cancel') expect(answer.body.status).toBe('canceled');
      }
    });
  }

  it('examples.mcp.agentic_checkout.json: every official MCP call is accepted at /acp/mcp; results and -32000 errors conform', async () => {
    const all = JSON.parse(readFileSync(join(specDir, 'examples/2026-04-17/examples.mcp.agentic_checkout.json'), 'utf8')) as Json;
    const client = new Client({ name: 'conformance', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/acp/mcp`), { requestInit: { headers: { Authorization: 'Bearer conformance' } } }));
    try {
      const ids: Record<string, string> = { item_123: 'sku_tshirt', fulfillment_option_123: 'ship_standard', fulfillment_option_456: 'ship_express' };
      const map = (value: unknown): unknown => {
        if (typeof value === 'string') return ids[value] ?? (/^(spt|vt|tok_visa)_/.test(value) ? 'tok_sandbox_ok' : value);
        if (Array.isArray(value)) return value.map(map);
        if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, map(v)]));
        return value;
      };
      for (const [step, name] of ['create', 'get', 'update', 'complete', 'create', 'cancel'].entries()) {
        const example = map(all[`${name}_checkout_session_request`]) as Json;
        // The second create must be a new purchase, so it gets its own key (the example's would replay the first).
        if (step === 4) example.params.arguments.meta.idempotency_key += '-second';
        const result = (await client.request(example as never, ResultSchema)) as Json;
        const session = result.structuredContent as Json;
        check('2026-04-17', session.order ? 'CheckoutSessionWithOrder' : 'CheckoutSession', session, `MCP ${name}`);
        expect(JSON.parse((result.content as Array<{ text: string }>)[0].text)).toEqual(session);
        // The examples name one session; the sandbox made its own: later calls use that one.
        if (name === 'create') ids.checkout_session_123 = session.id as string;
        if (name === 'complete') expect(session.order).toBeDefined();
        if (name === 'cancel') expect(session.status).toBe('canceled');
      }
      for (const error of [all.error_invalid_request, all.error_payment_declined] as Json[]) check('2026-04-17', 'Error', error.error.data, 'example error data');
      const refused = await client
        .request({ method: 'tools/call', params: { name: 'create_checkout_session', arguments: { meta: { api_version: '2026-04-17', idempotency_key: 'mcp-no-currency' }, payload: { line_items: [{ id: 'sku_mug' }] } } } }, ResultSchema)
        .then(() => undefined, (e: unknown) => e as { code: number; data: Json });
      expect(refused?.code).toBe(-32000);
      check('2026-04-17', 'Error', refused?.data, 'MCP -32000 data');
      expect(refused?.data).toMatchObject({ type: 'invalid_request', param: '$.currency' });
    } finally {
      await client.close();
    }
  });

  it('/.well-known/acp.json is a valid DiscoveryResponse listing every version and both transports', async () => {
    const response = await fetch(`${server.url}/.well-known/acp.json`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    check('2026-04-17', 'DiscoveryResponse', body, 'discovery');
    expect(body.protocol.supported_versions).toEqual([...ACP_VERSIONS]);
    expect(body.transports).toEqual(['rest', 'mcp']);
  });
});
