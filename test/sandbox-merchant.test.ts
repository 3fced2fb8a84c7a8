import { describe, it, expect } from 'vitest';
import { openMemoryStore } from '../src/store/memory.js';
import { SandboxMerchant, TOKEN_DECLINE, TOKEN_OK, type MerchantResponse } from '../src/backends/sandbox/merchant.js';
import type { SandboxSession } from '../src/backends/sandbox/cart.js';
import type { AcpError } from '../src/backends/sandbox/errors.js';
import { taxOn } from '../src/backends/sandbox/catalog.js';
import { ADDRESS } from './support/server-process.js';

const address = ADDRESS;
const pay = (token: string) => ({
  payment_data: { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token } } },
});

let keyCounter = 0;
function client(merchant: SandboxMerchant) {
  const post = (path: string, body: unknown, key = `k${++keyCounter}`) =>
    merchant.handle({ method: 'POST', path, identity: 'tester', idempotencyKey: key, body });
  return {
    create: (body: unknown) => post('/checkout_sessions', body),
    update: (id: string, body: unknown) => post(`/checkout_sessions/${id}`, body),
    complete: (id: string, body: unknown) => post(`/checkout_sessions/${id}/complete`, body),
    cancel: (id: string, body: unknown = {}) => post(`/checkout_sessions/${id}/cancel`, body),
    get: (id: string) => merchant.handle({ method: 'GET', path: `/checkout_sessions/${id}`, identity: 'tester' }),
  };
}
const session = (r: MerchantResponse) => r.body as SandboxSession;
const error = (r: MerchantResponse) => r.body as AcpError;
const amount = (s: SandboxSession, type: string) => s.totals.find((t) => t.type === type)?.amount;

describe('sandbox merchant: status flow', () => {
  it('create without an address is not_ready_for_payment, then ready once an address is given (standard shipping by default)', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const created = await api.create({ line_items: [{ id: 'sku_tshirt', quantity: 2 }], currency: 'usd' });
    expect(created.status).toBe(201);
    expect(session(created).status).toBe('not_ready_for_payment');
    expect(session(created).selected_fulfillment_options).toBeUndefined();
    expect(session(created).fulfillment_options.map((o) => o.id)).toEqual(['ship_standard', 'ship_express']);

    const updated = await api.update(session(created).id, { fulfillment_details: { address } });
    expect(updated.status).toBe(200);
    expect(session(updated).status).toBe('ready_for_payment');
    expect(session(updated).selected_fulfillment_options?.[0].option_id).toBe('ship_standard');
  });

  it('create with an address auto-selects standard shipping and is ready_for_payment', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const created = session(
      await api.create({ line_items: [{ id: 'sku_mug' }], currency: 'USD', fulfillment_details: { address } }),
    );
    expect(created.status).toBe('ready_for_payment');
    expect(created.currency).toBe('usd');
    expect(created.selected_fulfillment_options).toEqual([
      { type: 'shipping', option_id: 'ship_standard', item_ids: ['li_sku_mug'] },
    ]);
  });

  it('an all-digital cart needs no address and is delivered by download', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const created = session(await api.create({ line_items: [{ id: 'sku_ebook' }], currency: 'usd' }));
    expect(created.status).toBe('ready_for_payment');
    expect(created.fulfillment_options.map((o) => o.id)).toEqual(['digital_download']);
    expect(amount(created, 'fulfillment')).toBe(0);
  });

  it('complete with tok_sandbox_ok gives completed with an order {id, checkout_session_id, permalink_url, status: created}', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const api = client(merchant);
    const id = session(await api.create({ line_items: [{ id: 'sku_cap' }], currency: 'usd', fulfillment_details: { address } })).id;
    const done = await api.complete(id, pay(TOKEN_OK));
    expect(done.status).toBe(200);
    const s = session(done);
    expect(s.status).toBe('completed');
    expect(s.order).toMatchObject({ checkout_session_id: id, status: 'created' });
    expect(s.order?.id).toMatch(/^ord_/);
    expect(s.order?.permalink_url).toContain(s.order?.id);
    expect(await merchant.ordersFor(id)).toHaveLength(1);
    expect(await merchant.chargesFor(id)).toEqual([expect.objectContaining({ amount: amount(s, 'total') })]);
    expect(await merchant.stats()).toEqual({ sessions: 1, orders: 1, charges: 1, declines: 0 });
    expect(session(await api.get(id)).status).toBe('completed');
  });

  it('complete or cancel of a completed session is a 405 flat error, and charges nothing more', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const api = client(merchant);
    const id = session(await api.create({ line_items: [{ id: 'sku_cap' }], currency: 'usd', fulfillment_details: { address } })).id;
    await api.complete(id, pay(TOKEN_OK));
    const again = await api.complete(id, pay(TOKEN_OK));
    expect(again.status).toBe(405);
    expect(error(again)).toMatchObject({ type: 'invalid_request', code: 'checkout_already_completed' });
    expect((await api.cancel(id)).status).toBe(405);
    expect((await api.update(id, { buyer: { email: 'a@b.c' } })).status).toBe(405);
    expect((await merchant.stats()).charges).toBe(1);
  });

  it('cancel gives canceled; a second cancel or a complete after it is 405', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const id = session(await api.create({ line_items: [{ id: 'sku_tote' }], currency: 'usd' })).id;
    const canceled = await api.cancel(id, { intent_trace: { reason_code: 'other', trace_summary: 'changed my mind' } });
    expect(session(canceled).status).toBe('canceled');
    expect(error(await api.cancel(id)).code).toBe('checkout_already_canceled');
    expect((await api.complete(id, pay(TOKEN_OK))).status).toBe(405);
  });

  it('complete before the session is ready is a 2xx session with `missing` errors and no order', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const api = client(merchant);
    const id = session(await api.create({ line_items: [{ id: 'sku_poster' }], currency: 'usd' })).id;
    const r = await api.complete(id, pay(TOKEN_OK));
    expect(r.status).toBe(200);
    expect(session(r).status).toBe('not_ready_for_payment');
    expect(session(r).order).toBeUndefined();
    expect(session(r).messages.map((m) => m.type === 'error' && m.code)).toEqual(['missing', 'missing']);
    expect((await merchant.stats()).charges).toBe(0);
  });

  it('R12: a declined token leaves the session ready_for_payment with a payment_declined error, and counts a decline', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const api = client(merchant);
    const id = session(await api.create({ line_items: [{ id: 'sku_socks' }], currency: 'usd', fulfillment_details: { address } })).id;
    const r = await api.complete(id, pay(TOKEN_DECLINE));
    expect(r.status).toBe(200);
    expect(session(r).status).toBe('ready_for_payment');
    expect(session(r).messages[0]).toMatchObject({ type: 'error', code: 'payment_declined' });
    expect(await merchant.stats()).toEqual({ sessions: 1, orders: 0, charges: 0, declines: 1 });
    // The buyer can pay again with another method.
    expect(session(await api.complete(id, pay(TOKEN_OK))).status).toBe('completed');
  });

  it('any other payment token is an `invalid` error naming the sandbox tokens', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const id = session(await api.create({ line_items: [{ id: 'sku_socks' }], currency: 'usd', fulfillment_details: { address } })).id;
    const r = session(await api.complete(id, pay('spt_123')));
    expect(r.status).toBe('ready_for_payment');
    expect(r.messages[0]).toMatchObject({ type: 'error', code: 'invalid', param: '$.payment_data.instrument.credential.token' });
    expect(r.messages[0].content).toContain('tok_sandbox_ok');
  });

  it('R12: an out-of-stock item gives a 2xx session with an out_of_stock error, and complete keeps failing with it', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const api = client(merchant);
    const created = await api.create({
      line_items: [{ id: 'sku_mug' }, { id: 'sku_sold_out' }],
      currency: 'usd',
      fulfillment_details: { address },
    });
    expect(created.status).toBe(201);
    expect(session(created).status).toBe('not_ready_for_payment');
    expect(session(created).messages).toEqual([
      expect.objectContaining({ type: 'error', code: 'out_of_stock', param: '$.line_items[1]' }),
    ]);
    const r = session(await api.complete(session(created).id, pay(TOKEN_OK)));
    expect(r.status).toBe('not_ready_for_payment');
    expect(r.messages[0]).toMatchObject({ code: 'out_of_stock' });
    expect((await merchant.stats()).orders).toBe(0);
    // Removing the item makes it ready.
    const fixed = session(await api.update(session(created).id, { line_items: [{ id: 'sku_mug' }] }));
    expect(fixed.status).toBe('ready_for_payment');
    expect(fixed.messages).toEqual([]);
  });

  it('an unknown item id is a 400 flat error like the ACP example error_400_invalid_item', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const r = await api.create({ line_items: [{ id: 'sku_mug' }, { id: 'nope' }], currency: 'usd' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      type: 'invalid_request',
      code: 'invalid_item_id',
      message: "The item ID 'nope' does not exist.",
      param: '$.line_items[1].id',
    });
  });

  it('rejects a malformed body, a non-usd currency, and an unknown session', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const noItems = await api.create({ line_items: [], currency: 'usd' });
    expect(noItems.status).toBe(400);
    expect(error(noItems)).toMatchObject({ type: 'invalid_request', code: 'invalid', param: '$.line_items' });
    expect(error(await api.create({ line_items: [{ id: 'sku_mug' }], currency: 'eur' })).code).toBe('unsupported_currency');
    const missing = await api.get('cs_missing');
    expect(missing.status).toBe(404);
    expect(error(missing).code).toBe('checkout_not_found');
    expect((await api.update('cs_missing', {})).status).toBe(404);
  });
});

describe('sandbox merchant: totals arithmetic', () => {
  it('line and cart totals add up: base, subtotal, fulfillment, tax 8.75% per line rounded, total', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const s = session(
      await api.create({
        line_items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_socks', quantity: 3 }, { id: 'sku_tshirt' }],
        currency: 'usd',
        fulfillment_details: { address },
      }),
    );
    // Repeated ids merge: 3 t-shirts.
    expect(s.line_items.map((l) => [l.item.id, l.quantity])).toEqual([['sku_tshirt', 3], ['sku_socks', 3]]);
    const tshirt = 3 * 2500;
    const socks = 3 * 999;
    expect(taxOn(socks)).toBe(262); // 2997 * 0.0875 = 262.24
    expect(s.line_items[1].totals).toEqual([
      { type: 'items_base_amount', display_text: 'Base amount', amount: socks },
      { type: 'subtotal', display_text: 'Subtotal', amount: socks },
      { type: 'tax', display_text: 'Tax', amount: 262 },
      { type: 'total', display_text: 'Total', amount: socks + 262 },
    ]);
    const tax = taxOn(tshirt) + taxOn(socks);
    expect(s.totals.map((t) => t.type)).toEqual(['items_base_amount', 'subtotal', 'fulfillment', 'tax', 'total']);
    expect(amount(s, 'items_base_amount')).toBe(tshirt + socks);
    expect(amount(s, 'subtotal')).toBe(tshirt + socks);
    expect(amount(s, 'fulfillment')).toBe(500);
    expect(amount(s, 'tax')).toBe(tax);
    expect(amount(s, 'total')).toBe(tshirt + socks + 500 + tax);
    for (const t of s.totals) expect(Number.isInteger(t.amount)).toBe(true);

    const express = session(
      await api.update(s.id, {
        selected_fulfillment_options: [{ type: 'shipping', option_id: 'ship_express', item_ids: ['li_sku_tshirt'] }],
      }),
    );
    expect(amount(express, 'fulfillment')).toBe(1500);
    expect(amount(express, 'total')).toBe(tshirt + socks + 1500 + tax);
  });

  it('tax rounds half up to integer minor units', () => {
    expect(taxOn(0)).toBe(0);
    expect(taxOn(1)).toBe(0); // 0.0875
    expect(taxOn(6)).toBe(1); // 0.525
    expect(taxOn(40)).toBe(4); // 3.5
    expect(taxOn(2500)).toBe(219); // 218.75
  });
});

describe('sandbox merchant: update semantics', () => {
  it('R2: null clears a field, absent leaves it', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const id = session(
      await api.create({ line_items: [{ id: 'sku_mug' }], currency: 'usd', buyer: { email: 'ada@example.com' }, fulfillment_details: { address } }),
    ).id;
    const untouched = session(await api.update(id, {}));
    expect(untouched.buyer?.email).toBe('ada@example.com');
    expect(untouched.fulfillment_details?.address).toEqual(address);
    const cleared = session(await api.update(id, { buyer: null, fulfillment_details: null }));
    expect(cleared.buyer).toBeUndefined();
    expect(cleared.fulfillment_details).toBeUndefined();
    expect(cleared.status).toBe('not_ready_for_payment');
  });

  it('refuses a fulfillment option the cart is not offered', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const id = session(await api.create({ line_items: [{ id: 'sku_mug' }], currency: 'usd' })).id;
    const r = await api.update(id, {
      selected_fulfillment_options: [{ type: 'digital', option_id: 'digital_download', item_ids: [] }],
    });
    expect(r.status).toBe(400);
    expect(error(r)).toMatchObject({ code: 'invalid_fulfillment_option', param: '$.selected_fulfillment_options[0].option_id' });
  });

  it('discount codes are accepted and answered with a discount_code_invalid warning', async () => {
    const api = client(new SandboxMerchant({ store: openMemoryStore() }));
    const id = session(await api.create({ line_items: [{ id: 'sku_mug' }], currency: 'usd', fulfillment_details: { address } })).id;
    const s = session(await api.update(id, { discounts: { codes: ['SAVE10'] } }));
    expect(s.messages).toEqual([expect.objectContaining({ type: 'warning', code: 'discount_code_invalid' })]);
    expect(s.status).toBe('ready_for_payment');
    expect(session(await api.update(id, { discounts: null })).messages).toEqual([]);
  });
});

describe('sandbox merchant: persistence', () => {
  it('a new SandboxMerchant on the same store knows the sessions, orders and replays of the old one', async () => {
    const store = openMemoryStore();
    const first = new SandboxMerchant({ store });
    const post = (m: SandboxMerchant, path: string, key: string, body: unknown) =>
      m.handle({ method: 'POST', path, identity: 'tester', idempotencyKey: key, body });
    const created = session(
      await post(first, '/checkout_sessions', 'create-1', { line_items: [{ id: 'sku_hoodie' }], currency: 'usd', fulfillment_details: { address } }),
    );
    const done = await post(first, `/checkout_sessions/${created.id}/complete`, 'complete-1', pay(TOKEN_OK));

    const second = new SandboxMerchant({ store });
    const read = await second.handle({ method: 'GET', path: `/checkout_sessions/${created.id}`, identity: 'x' });
    expect(session(read).status).toBe('completed');
    expect(session(read).order).toEqual(session(done).order);
    const replay = await post(second, `/checkout_sessions/${created.id}/complete`, 'complete-1', pay(TOKEN_OK));
    expect(replay.replayed).toBe(true);
    expect(replay.body).toEqual(done.body);
    expect(await second.stats()).toEqual({ sessions: 1, orders: 1, charges: 1, declines: 0 });
  });
});

describe('sandbox merchant: routing', () => {
  it('answers unknown routes with 404 and wrong methods with 405, as flat errors', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const nowhere = await merchant.handle({ method: 'GET', path: '/orders', identity: 't' });
    expect(nowhere.status).toBe(404);
    expect(error(nowhere).type).toBe('invalid_request');
    const wrong = await merchant.handle({ method: 'GET', path: '/checkout_sessions', identity: 't' });
    expect(wrong.status).toBe(405);
  });
});
