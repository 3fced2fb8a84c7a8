// Issue 14: the ucp backend against the reference merchant, over REST and over MCP, through the recording fault
// proxy: every request it sends validates against the official UCP schemas (body, MCP arguments, REST headers),
// UCP checkouts come back as the one ACP-shaped checkout, severities become next steps, complete_in_progress is
// read back (never resent), and a conflict is reported as our defect.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../src/backends/backend.js';
import { parseFaults } from '../src/backends/sandbox/faults.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { UcpBackend } from '../src/backends/ucp/ucp-backend.js';
import type { UcpTransport } from '../src/backends/ucp/ucp-wire.js';
import { ucpAnswerToResult } from '../src/backends/ucp/ucp-answer.js';
import { readUcpConfig, type UcpTransportName } from '../src/backends/ucp/ucp-config.js';
import { describeFailure } from '../src/checkout/failure.js';
import { nameBasedUuid } from '../src/ledger/keys.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startFaultProxy, type FaultProxy, type ProxyEntry } from './support/fault-proxy.js';
import { ucpSpecAvailable } from './support/services.js';
import { loadUcpSchemas, type UcpOperation as SchemaOperation, type UcpSchemas } from './support/ucp-schemas.js';

const present = ucpSpecAvailable();
const PROFILE = 'https://agent.example/profiles/once-checkout.json';
const ADDRESS = { name: 'Ada Lovelace', line_one: '1 Analytical Way', city: 'London', state: 'LDN', country: 'GB', postal_code: 'N1 9GU' };
const PAY = { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'token', token: 'tok_sandbox_ok' } } };
const DECLINE = { ...PAY, instrument: { ...PAY.instrument, credential: { type: 'token', token: 'tok_sandbox_decline' } } };

let attempt = 0;
const ctx = (): CallContext => ({ idempotencyKey: nameBasedUuid(`test-${++attempt}`), attempt: 1, requestId: randomUUID() });

const OPERATION_OF: Record<string, SchemaOperation | undefined> = { create_checkout: 'create', update_checkout: 'update', complete_checkout: 'complete' };

/** Every request on the wire, checked against the UCP schemas for its transport. */
function wireProblems(schemas: UcpSchemas, entries: ProxyEntry[]): string[] {
  const problems: string[] = [];
  for (const entry of entries) {
    if (entry.path.endsWith('/mcp')) {
      const message = entry.body as { method?: string; params?: { name?: string; arguments?: unknown } };
      if (message?.method !== 'tools/call') continue;
      for (const p of schemas.mcpArguments(message.params!.name!, message.params!.arguments)) problems.push(`${message.params!.name}: ${p}`);
      continue;
    }
    for (const p of schemas.restHeaders(entry.method, entry.headers)) problems.push(`${entry.method} ${entry.path}: ${p}`);
    const operation = entry.method === 'PUT' ? 'update' : entry.method === 'POST' && entry.path.endsWith('/complete') ? 'complete' : entry.method === 'POST' && /checkout-sessions$/.test(entry.path) ? 'create' : undefined;
    if (operation) for (const p of schemas.request(operation, entry.body)) problems.push(`${entry.method} ${entry.path}: ${p}`);
  }
  return problems;
}

describe.skipIf(!present)('the ucp backend against the reference merchant (issue 14)', () => {
  let schemas: UcpSchemas;
  let merchant: MerchantServer;
  let proxy: FaultProxy;
  let clock = Date.now();

  beforeAll(async () => {
    schemas = loadUcpSchemas();
    merchant = await serveMerchant({ port: 0, store: openMemoryStore(), now: () => clock, completeDelayMs: 5_000 });
    proxy = await startFaultProxy({ target: merchant.url });
  });
  afterAll(async () => {
    await proxy?.close();
    await merchant?.close();
  });

  function backend(transport: UcpTransportName, extra: Partial<ConstructorParameters<typeof UcpBackend>[0]> = {}) {
    const url = new URL(transport === 'mcp' ? `${proxy.url}/ucp/mcp` : `${proxy.url}/ucp`);
    const config = readUcpConfig({ [transport === 'mcp' ? 'UCP_MCP_URL' : 'UCP_BASE_URL']: url.href, UCP_AGENT_PROFILE: PROFILE, UCP_TIMEOUT: '2s' });
    return new UcpBackend({ ...config, endpoint: { transport, url, variable: transport === 'mcp' ? 'UCP_MCP_URL' : 'UCP_BASE_URL' }, ...extra });
  }

  for (const transport of ['rest', 'mcp'] as const) {
    it(`issue 14 (${transport}): a whole purchase; every request validates against the UCP schemas; one ACP-shaped checkout out`, async () => {
      const ucp = backend(transport);
      const start = proxy.log.length;
      try {
        const created = await ucp.create({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd', buyer: { email: 'ada@example.com' }, fulfillment_details: { address: ADDRESS } }, ctx());
        expect(created.kind, JSON.stringify(created)).toBe('succeeded');
        if (created.kind !== 'succeeded') return;
        const checkout = created.checkout;
        expect(checkout).toMatchObject({ status: 'ready_for_payment', currency: 'usd', fulfillment_details: { address: ADDRESS } });
        expect(checkout.line_items[0]).toMatchObject({ item: { id: 'sku_mug', name: 'Sandbox Mug', unit_amount: 1400 }, quantity: 2 });
        expect(checkout.totals.find((t) => t.type === 'total')?.amount).toBe(3545);
        expect(checkout.fulfillment_options.map((o) => o.id)).toEqual(['ship_standard', 'ship_express']);
        expect(checkout.continue_url).toMatch(/\/ucp\/checkout\/cs_/);
        expect((checkout as unknown as { capabilities: unknown }).capabilities).toEqual({ payment: { handlers: [{ id: 'sandbox', name: 'dev.once_checkout.sandbox_token', version: '2026-04-08' }] } });

        const updated = await ucp.update(checkout.id, { selected_fulfillment_options: [{ type: 'shipping', option_id: 'ship_express', item_ids: [] }] }, ctx());
        expect(updated.kind === 'succeeded' && updated.checkout.selected_fulfillment_options?.[0].option_id).toBe('ship_express');
        const rebought = await ucp.update(checkout.id, { items: [{ id: 'sku_mug', quantity: 1 }, { id: 'sku_cap', quantity: 1 }] }, ctx());
        expect(rebought.kind === 'succeeded' && rebought.checkout.line_items.map((l) => [l.item.id, l.quantity])).toEqual([['sku_mug', 1], ['sku_cap', 1]]);
        expect(rebought.kind === 'succeeded' && rebought.checkout.fulfillment_details?.address).toEqual(ADDRESS);

        const declined = await ucp.complete(checkout.id, { payment_data: DECLINE }, ctx());
        expect(declined).toMatchObject({ kind: 'failed', code: 'payment_declined' });
        const paid = await ucp.complete(checkout.id, { payment_data: PAY }, ctx());
        expect(paid.kind).toBe('succeeded');
        if (paid.kind !== 'succeeded') return;
        expect(paid.checkout).toMatchObject({ status: 'completed', order: { checkout_session_id: checkout.id } });
        expect(paid.checkout.order!.id).toMatch(/^ord_/);
        expect((await merchant.merchant.ordersFor(checkout.id)).map((o) => o.id)).toEqual([paid.checkout.order!.id]);
        expect(await ucp.get(checkout.id)).toMatchObject({ kind: 'succeeded', checkout: { status: 'completed' } });
        expect(await ucp.cancel(checkout.id, {}, ctx())).toMatchObject({ kind: 'failed', code: 'checkout_already_completed' });

        const other = await ucp.create({ items: [{ id: 'sku_ebook', quantity: 1 }], currency: 'usd' }, ctx());
        expect(await ucp.cancel(other.kind === 'succeeded' ? other.checkout.id : '', { reason: 'changed my mind' }, ctx())).toMatchObject({ kind: 'succeeded', checkout: { status: 'canceled' } });
        expect(await ucp.get('cs_nope')).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });

        const entries = proxy.log.slice(start);
        expect(entries.length).toBeGreaterThan(8);
        expect(wireProblems(schemas, entries)).toEqual([]);
      } finally {
        await ucp.close();
      }
    });
  }

  it('issue 14: severities become next steps; a bad cart is refused before the business acts (no handler id, buyer at complete)', async () => {
    const ucp = backend('rest');
    const unknown = await ucp.create({ items: [{ id: 'sku_nope', quantity: 1 }], currency: 'usd' }, ctx());
    expect(unknown).toMatchObject({ kind: 'failed', code: 'checkout_unrecoverable' });
    expect(describeFailure((unknown as { code: string }).code, (unknown as { message: string }).message, 'create_checkout').message).toMatch(
      /^The merchant refused \(checkout_unrecoverable\): The business cannot go on with this checkout: the merchant says “The item ID 'sku_nope' does not exist\.” \(its code "item_unavailable" at "\$\.line_items\[0\]\.item\.id"\)\. Start a new checkout/,
    );
    const euro = await ucp.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'eur' }, ctx());
    expect(euro).toMatchObject({ kind: 'failed', code: 'checkout_unrecoverable' });
    const bare = await ucp.create({ items: [{ id: 'sku_tshirt', quantity: 1 }], currency: 'usd' }, ctx());
    const id = bare.kind === 'succeeded' ? bare.checkout.id : '';
    const missing = await ucp.complete(id, { payment_data: PAY }, ctx());
    expect(missing).toMatchObject({ kind: 'failed', code: 'checkout_needs_changes' });
    expect((missing as { message: string }).message).toMatch(/Fix it with update_checkout, then call complete_checkout again\.$/);
    expect(await ucp.complete(id, { payment_data: { instrument: PAY.instrument } }, ctx())).toMatchObject({ kind: 'failed', code: 'invalid_input', message: expect.stringContaining('handler_id') });
    expect(await ucp.complete(id, { payment_data: PAY, buyer: { email: 'a@b.c' } }, ctx())).toMatchObject({ kind: 'failed', code: 'invalid_input', message: expect.stringContaining('update_checkout') });
    await ucp.close();
  });

  it('issue 14: requires_escalation hands the person to continue_url, in words per severity', () => {
    const escalated = {
      ucp: { version: '2026-04-08', status: 'success', payment_handlers: {} },
      id: 'chk_1',
      status: 'requires_escalation',
      currency: 'USD',
      line_items: [{ id: 'li_1', item: { id: 'x', title: 'X', price: 100 }, quantity: 1, totals: [] }],
      totals: [{ type: 'subtotal', amount: 100 }, { type: 'total', amount: 100 }],
      links: [],
      continue_url: 'https://shop.example/checkout/chk_1',
      messages: [{ type: 'error', code: 'high_value_order', severity: 'requires_buyer_review', content: 'Orders over $500 need verification' }],
    };
    expect(schemas.response(escalated)).toEqual([]);
    const result = ucpAnswerToResult('complete', { kind: 'reply', status: 200, body: escalated });
    expect(result).toMatchObject({ kind: 'failed', code: 'payer_action_required', checkout: { status: 'requires_escalation', continue_url: 'https://shop.example/checkout/chk_1' } });
    expect((result as { message: string }).message).toBe(
      'The person must review and authorize this order with the business: the merchant says “Orders over $500 need verification” (its code "high_value_order"). Send them to the business at "https://shop.example/checkout/chk_1".',
    );
    const input = ucpAnswerToResult('complete', { kind: 'reply', status: 200, body: { ...escalated, messages: [{ ...escalated.messages[0], severity: 'requires_buyer_input', code: 'schedule_delivery' }] } });
    expect((input as { message: string }).message).toMatch(/^The business needs information from the person that it cannot take through the API/);
  });

  it('issue 14: a complete answered complete_in_progress is read back with backoff until it completes 5 s later; sent once', async () => {
    // A business whose every complete takes 5 s; its clock and the backend's are one injected clock, and every
    // wait of the backend moves it: nothing sleeps, nothing is timed.
    const slow = await serveMerchant({ port: 0, store: openMemoryStore(), now: () => clock, completeDelayMs: 5_000, faults: parseFaults('complete_in_progress@complete:1') });
    const slowProxy = await startFaultProxy({ target: slow.url });
    const sleeps: number[] = [];
    const url = new URL(`${slowProxy.url}/ucp`);
    const config = readUcpConfig({ UCP_BASE_URL: url.href, UCP_AGENT_PROFILE: PROFILE, UCP_COMPLETE_WAIT: '10s' });
    const ucp = new UcpBackend({ ...config, endpoint: { transport: 'rest', url, variable: 'UCP_BASE_URL' }, now: () => clock, sleep: async (ms) => void (sleeps.push(ms), (clock += ms)) });
    try {
      const created = await ucp.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } }, ctx());
      const id = created.kind === 'succeeded' ? created.checkout.id : '';
      const start = slowProxy.log.length;
      const paid = await ucp.complete(id, { payment_data: PAY }, ctx());
      expect(paid).toMatchObject({ kind: 'succeeded', checkout: { status: 'completed' } });
      const wire = slowProxy.log.slice(start).map((e) => `${e.method} ${e.path.replace(id, '{id}')}`);
      expect(wire).toEqual(['POST /ucp/checkout-sessions/{id}/complete', ...Array(5).fill('GET /ucp/checkout-sessions/{id}')]);
      expect(sleeps).toEqual([250, 500, 1_000, 2_000, 2_000]);
      expect(await slow.merchant.chargesFor(id)).toHaveLength(1);

      // With less patience than the business needs: unknown (not failed), and nothing was sent again.
      const impatient = new UcpBackend({ ...config, completeWaitMs: 1_000, endpoint: { transport: 'rest', url, variable: 'UCP_BASE_URL' }, now: () => clock, sleep: async (ms) => void (clock += ms) });
      const again = await impatient.create({ items: [{ id: 'sku_cap', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } }, ctx());
      const other = again.kind === 'succeeded' ? again.checkout.id : '';
      const pending = await impatient.complete(other, { payment_data: PAY }, ctx());
      expect(pending).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('complete_in_progress') });
      clock += 5_000;
      expect(await impatient.get(other)).toMatchObject({ kind: 'succeeded', checkout: { status: 'completed' } });
      expect(slowProxy.log.filter((e) => e.path.endsWith(`${other}/complete`))).toHaveLength(1);
      await impatient.close();
    } finally {
      await ucp.close();
      await slowProxy.close();
      await slow.close();
    }
  });

  it("issue 14 (mcp): the SDK's own timeout (-32001, UCP's discovery code) is no answer, never the business's refusal", async () => {
    // Found by chaos: a session opening past the timeout was read as a -32001 error from the business.
    const ucp = backend('mcp', { timeoutMs: 300 });
    proxy.plan({ fault: 'delay', delayMs: 1_000, method: 'POST', path: /^\/ucp\/mcp$/, body: (b) => (b as { method?: string })?.method === 'initialize' });
    const start = proxy.log.length;
    const opened = await ucp.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx());
    expect(opened).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/MCP session could not be opened .* the call was not sent/) });
    expect(proxy.log.slice(start).some((e) => (e.body as { method?: string })?.method === 'tools/call')).toBe(false);
    proxy.plan({ fault: 'delay', delayMs: 1_000, method: 'POST', path: /^\/ucp\/mcp$/, body: (b) => (b as { params?: { name?: string } })?.params?.name === 'create_checkout' });
    expect(await ucp.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx())).toMatchObject({ kind: 'unknown', reason: 'no answer within 300 ms' });
    await ucp.close();
  });

  it('R10: a business echoing the bearer token and the payment token gets neither into a result', async () => {
    const key = 'ucp_secret_bearer_token_0123456789';
    const token = 'tok_secret_payment_0123456789';
    const echo: UcpTransport = {
      async send(call) {
        const said = `we saw ${key} and ${token}`;
        return {
          kind: 'reply',
          status: 200,
          body: {
            ucp: { version: '2026-04-08', status: 'success', payment_handlers: {} },
            id: 'chk_echo',
            status: 'ready_for_complete',
            currency: 'USD',
            line_items: [{ id: 'li_1', item: { id: 'x', title: said, price: 100 }, quantity: 1, totals: [] }],
            totals: [{ type: 'subtotal', amount: 100 }, { type: 'total', amount: 100 }],
            links: [],
            messages: [{ type: 'error', code: token, severity: 'recoverable', content: said }],
            continue_url: `https://shop.example/${call.operation}`,
          },
        };
      },
    };
    const url = new URL('https://shop.example/ucp');
    const ucp = new UcpBackend({ ...readUcpConfig({ UCP_BASE_URL: url.href, UCP_AGENT_PROFILE: PROFILE, UCP_API_KEY: key }), endpoint: { transport: 'rest', url, variable: 'UCP_BASE_URL' }, transport: echo });
    const paid = await ucp.complete('chk_echo', { payment_data: { handler_id: 'h', instrument: { type: 'card', credential: { type: 'token', token } } } }, ctx());
    const read = await ucp.get('chk_echo');
    expect(JSON.stringify(paid)).not.toContain(key);
    expect(JSON.stringify(paid)).not.toContain(token);
    // A read does not know the payment token: the engine redacts it wherever it holds one (checkouts.ts).
    expect(JSON.stringify(read)).not.toContain(key);
    expect(paid).toMatchObject({ kind: 'failed', code: 'checkout_needs_changes' });
  });

  it('issue 14: the same key with another body is a conflict, reported as our defect and never resent', async () => {
    const ucp = backend('mcp');
    const key = ctx();
    const first = await ucp.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, key);
    expect(first.kind).toBe('succeeded');
    const start = proxy.log.length;
    const clash = await ucp.create({ items: [{ id: 'sku_cap', quantity: 1 }], currency: 'usd' }, key);
    expect(clash).toMatchObject({ kind: 'failed', code: 'idempotency_conflict', message: expect.stringMatching(/^IDEMPOTENCY KEY COLLISION: .*once-checkout bug; nothing was resent under a new key\.$/) });
    expect(proxy.log.slice(start).filter((e) => (e.body as { method?: string })?.method === 'tools/call')).toHaveLength(1);
    await ucp.close();
  });
});
