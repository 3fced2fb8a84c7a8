// End to end: the built server spawned over stdio, driven by the MCP SDK client, checked against the
// sandbox merchant's own records (its orders and charges live in the same SQLite file).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import { SandboxMerchant } from '../src/backends/sandbox/merchant.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { ADDRESS, BIN, startServer, structured, tempDir, type RunningServer } from './support/server-process.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})));
});

async function start(dbPath: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer({ ONCE_STORE: `sqlite://${dbPath}`, ...env });
  servers.push(server);
  return server;
}

/** What the merchant itself recorded, read from the shared store file. */
async function merchantRecords(dbPath: string, checkoutId?: string) {
  const store = await openSqliteStore(dbPath);
  try {
    const merchant = new SandboxMerchant({ store });
    return {
      stats: await merchant.stats(),
      orders: checkoutId ? await merchant.ordersFor(checkoutId) : [],
      charges: checkoutId ? await merchant.chargesFor(checkoutId) : [],
      ledgerRecords: await count(store.entries('rec:')),
    };
  } finally {
    await store.close();
  }
}

async function count(entries: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of entries) n += 1;
  return n;
}

const CART = { items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }], currency: 'usd' };
const PAY_OK = { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };
const PAY_DECLINE = { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_decline' } } };

describe('the MCP surface', () => {
  it('tools/list shows the five tools with the fixed names, schemas and annotations', async () => {
    const server = await start(join(tempDir(), 'l.db'));
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'create_checkout',
      'update_checkout',
      'complete_checkout',
      'get_checkout',
      'cancel_checkout',
    ]);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.create_checkout.annotations).toMatchObject({ idempotentHint: true, destructiveHint: false });
    expect(byName.update_checkout.annotations).toMatchObject({ idempotentHint: true });
    expect(byName.complete_checkout.annotations).toMatchObject({ idempotentHint: true, destructiveHint: true });
    expect(byName.get_checkout.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.cancel_checkout.annotations).toMatchObject({ idempotentHint: true, destructiveHint: true });
    expect(byName.create_checkout.inputSchema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['items', 'currency']),
      properties: { items: { type: 'array', minItems: 1, maxItems: 100 }, task_id: { type: 'string' } },
    });
    expect(byName.complete_checkout.inputSchema.required).toEqual(['checkout_session_id', 'payment_data']);
    for (const tool of tools) {
      expect(tool.outputSchema).toMatchObject({ type: 'object', properties: { checkout: {}, idempotency: {}, error: {} } });
      expect(tool.description).toMatch(/never invent|Changes nothing/i);
    }
    expect(byName.create_checkout.description).toMatch(/new task_id/);
  });
});

describe('exactly once over stdio', () => {
  it('R2/R11: create called twice with the same cart (items reordered) returns the same checkout, the second replayed', async () => {
    const db = join(tempDir(), 'c.db');
    const server = await start(db);
    const first = structured(await server.call('create_checkout', CART));
    const again = structured(
      await server.call('create_checkout', { ...CART, items: [...CART.items].reverse(), currency: 'USD' }),
    );
    expect(again.checkout?.id).toBe(first.checkout?.id);
    expect(first.idempotency).toMatchObject({ replayed: false, outcome: 'succeeded', attempt: 1 });
    expect(again.idempotency).toMatchObject({ replayed: true, first_seen_at: first.idempotency?.first_seen_at });
    expect((await merchantRecords(db)).stats.sessions).toBe(1);
  });

  it('R3: a create repeated after a server restart on the same store returns the first checkout', async () => {
    const db = join(tempDir(), 'r.db');
    const first = await start(db);
    const created = structured(await first.call('create_checkout', CART));
    await first.close();
    const restarted = await start(db);
    const again = structured(await restarted.call('create_checkout', CART));
    expect(again.checkout?.id).toBe(created.checkout?.id);
    expect(again.idempotency).toMatchObject({ replayed: true, first_seen_at: created.idempotency?.first_seen_at });
    expect((await merchantRecords(db)).stats.sessions).toBe(1);
  });

  it('R4: a new task_id makes a second checkout; a reused task_id with another cart is intent_conflict', async () => {
    const db = join(tempDir(), 't.db');
    const server = await start(db);
    const a = structured(await server.call('create_checkout', { ...CART, task_id: 'gift-1' }));
    const b = structured(await server.call('create_checkout', { ...CART, task_id: 'gift-2' }));
    expect(b.checkout?.id).not.toBe(a.checkout?.id);
    const conflict = await server.call('create_checkout', { items: [{ id: 'sku_cap', quantity: 1 }], currency: 'usd', task_id: 'gift-1' });
    expect(conflict.isError).toBe(true);
    expect(structured(conflict).error).toMatchObject({ code: 'intent_conflict', retryable: false });
    expect(structured(conflict).error?.message).toContain(a.checkout!.id);
    expect((await merchantRecords(db)).stats.sessions).toBe(2);
  });

  it('R5: complete called three times gives one order, one charge, and the same order id each time', async () => {
    const db = join(tempDir(), 'o.db');
    const server = await start(db);
    const created = structured(await server.call('create_checkout', { ...CART, fulfillment_details: { address: ADDRESS } }));
    const id = created.checkout!.id;
    expect(created.checkout?.status).toBe('ready_for_payment');
    const results = [];
    for (let i = 0; i < 3; i++) {
      // The third repeat carries other payment data: a completed checkout is never paid again (R5).
      const payment = i === 2 ? PAY_DECLINE : PAY_OK;
      results.push(structured(await server.call('complete_checkout', { checkout_session_id: id, payment_data: payment })));
    }
    const orderIds = results.map((r) => r.checkout?.order?.id);
    expect(new Set(orderIds).size).toBe(1);
    expect(orderIds[0]).toMatch(/\S/);
    expect(results.map((r) => r.idempotency?.replayed)).toEqual([false, true, true]);
    const seen = await merchantRecords(db, id);
    expect(seen.orders).toHaveLength(1);
    expect(seen.charges).toHaveLength(1);
    expect(seen.orders[0].id).toBe(orderIds[0]);
  });

  it('R6: a declined payment, then a good one, runs attempt 2 with a new key and charges once', async () => {
    const db = join(tempDir(), 'd.db');
    const server = await start(db);
    const id = structured(await server.call('create_checkout', { ...CART, fulfillment_details: { address: ADDRESS } })).checkout!.id;
    const declined = await server.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_DECLINE });
    expect(declined.isError).toBe(true);
    expect(structured(declined).error).toMatchObject({ type: 'payment_error', code: 'payment_declined', retryable: false });
    const paid = structured(await server.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
    expect(paid.checkout?.status).toBe('completed');
    expect(paid.idempotency).toMatchObject({ attempt: 2, replayed: false, outcome: 'succeeded' });
    const seen = await merchantRecords(db, id);
    expect(seen.charges).toHaveLength(1);
    expect(seen.stats.declines).toBe(1);
  });

  it('R6/R7: the server SIGKILLed after the merchant committed, restarted on the same file, completes to the same single order', async () => {
    const db = join(tempDir(), 'k.db');
    const setup = await start(db);
    const id = structured(await setup.call('create_checkout', { ...CART, fulfillment_details: { address: ADDRESS } })).checkout!.id;
    await setup.close();

    const doomed = await start(db, { ONCE_SANDBOX_FAULTS: 'crash_after_commit@complete:1' });
    await expect(doomed.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK })).rejects.toThrow();
    const afterCrash = await merchantRecords(db, id);
    expect(afterCrash.charges).toHaveLength(1); // the merchant charged; our record of it was never written

    const restarted = await start(db);
    const result = structured(await restarted.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
    expect(result.checkout?.order?.id).toBe(afterCrash.orders[0].id);
    expect(result.idempotency).toMatchObject({ outcome: 'succeeded', attempt: 1 });
    const seen = await merchantRecords(db, id);
    expect(seen.charges).toHaveLength(1);
    expect(seen.orders).toHaveLength(1);
  });

  it('R6: a lost response after commit is answered from the merchant on the next call, with no second charge', async () => {
    const db = join(tempDir(), 'lost.db');
    const server = await start(db, { ONCE_SANDBOX_FAULTS: 'lose_response@complete:1', ONCE_SANDBOX_SEED: '7' });
    const id = structured(await server.call('create_checkout', { ...CART, fulfillment_details: { address: ADDRESS } })).checkout!.id;
    const lost = await server.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK });
    expect(structured(lost).error).toMatchObject({ code: 'outcome_unknown', retryable: true });
    const again = structured(await server.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
    expect(again.checkout?.status).toBe('completed');
    expect((await merchantRecords(db, id)).charges).toHaveLength(1);
  });
});

describe('bad input is refused before anything is stored or sent', () => {
  const cases: Array<[string, string, Record<string, unknown>, RegExp]> = [
    ['missing items', 'create_checkout', { currency: 'usd' }, /items/],
    ['quantity 0', 'create_checkout', { items: [{ id: 'sku_mug', quantity: 0 }], currency: 'usd' }, /items\[0\]\.quantity/],
    ['quantity 10^6', 'create_checkout', { items: [{ id: 'sku_mug', quantity: 1_000_000 }], currency: 'usd' }, /items\[0\]\.quantity: must be at most 999/],
    ['negative quantity', 'create_checkout', { items: [{ id: 'sku_mug', quantity: -2 }], currency: 'usd' }, /items\[0\]\.quantity/],
    ['unknown currency', 'create_checkout', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'xyz' }, /currency: is not an ISO 4217/],
    ['10 kB string', 'create_checkout', { items: [{ id: 'x'.repeat(10_000), quantity: 1 }], currency: 'usd' }, /items\[0\]\.id: must be at most 128/],
    ['wrong type', 'create_checkout', { items: 'two shirts', currency: 'usd' }, /items/],
    ['unknown field', 'create_checkout', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', idempotency_key: 'abc' }, /unknown field\(s\) idempotency_key/],
    ['missing payment', 'complete_checkout', { checkout_session_id: 'cs_1' }, /payment_data/],
    ['empty id', 'get_checkout', { checkout_session_id: '' }, /checkout_session_id: must not be empty/],
  ];

  it.each(cases)('%s → invalid_input naming the field, nothing stored or sent', async (_label, tool, args, field) => {
    const db = join(tempDir(), 'bad.db');
    const server = await start(db);
    const result = await server.call(tool, args);
    expect(result.isError).toBe(true);
    expect(structured(result).error).toMatchObject({ type: 'invalid_request', code: 'invalid_input', retryable: false });
    expect(structured(result).error?.message).toMatch(field);
    await server.close();
    const seen = await merchantRecords(db);
    expect(seen.stats.sessions).toBe(0);
    expect(seen.ledgerRecords).toBe(0);
  });
});

describe('start-up refuses bad configuration in one line', () => {
  it.each([
    [{ ONCE_STORE: 'mysql://db/x' }, /^once-checkout: ONCE_STORE: the scheme "mysql:" is not a known store\. Use sqlite:\/\/\//],
    [{ ONCE_STORE: 'sqlite://relative.db' }, /^once-checkout: ONCE_STORE: the SQLite path "relative\.db" is not absolute/],
    [{ ONCE_TTL: '24h' }, /^once-checkout: ONCE_TTL: 24h is not below the provider's key retention of 24h/],
    [{ ONCE_BACKEND: 'square' }, /^once-checkout: ONCE_BACKEND: "square" is not a backend/],
  ])('%o stops the server with one line naming the variable', (env, line) => {
    const run = spawnSync(process.execPath, [BIN], { env: { PATH: process.env.PATH, HOME: tempDir(), ...env }, encoding: 'utf8', input: '' });
    expect(run.status).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(line);
  });
});

describe('results match the declared output schema', () => {
  it('structuredContent of a success and of a failure validate against each tool\'s outputSchema', async () => {
    const server = await start(join(tempDir(), 's.db'));
    const { tools } = await server.client.listTools();
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(tools.find((t) => t.name === 'create_checkout')!.outputSchema!);
    const ok = await server.call('create_checkout', CART);
    const bad = await server.call('create_checkout', { items: [], currency: 'usd' });
    expect(validate(ok.structuredContent), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(bad.structuredContent), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ checkout: structured(ok).checkout })).toBe(false); // a success needs its idempotency too
  });
});
