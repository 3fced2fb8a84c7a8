// Spending safety: before complete_checkout charges, a client that can elicit asks its person to approve the
// total and merchant (form mode, one boolean, no credentials). In process and over stdio.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { SandboxMerchant } from '../src/backends/sandbox/merchant.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import { silentLogger } from '../src/log.js';
import { confirmMessage, formatAmount } from '../src/server/confirm.js';
import { createServer } from '../src/server/server.js';
import { tools } from '../tools/index.js';
import { openMemoryStore } from '../src/store/memory.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { ADDRESS, BIN, structured, tempDir } from './support/server-process.js';

const HOUR = 3_600_000;
const CART = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const PAY = { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };

type Answer = (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>;

async function inProcess(capabilities: Record<string, unknown>, answer?: Answer) {
  const store = openMemoryStore();
  const backend = new SandboxBackend({ store });
  const checkouts = new Checkouts({ ledger: new Ledger({ store, ttlMs: 23 * HOUR }), backend, windowMs: HOUR });
  const server = createServer({ checkouts, principal: 'alice', logger: silentLogger, version: 'test', tools });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'confirm', version: '1' }, { capabilities });
  const asked: ElicitRequest[] = [];
  if (answer && capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request);
      return answer(request);
    });
  }
  await client.connect(clientSide);
  const call = async (name: string, args: Record<string, unknown>) => structured((await client.callTool({ name, arguments: args })) as CallToolResult);
  const id = (await call('create_checkout', CART)).checkout!.id;
  return { call, id, asked, stats: () => backend.sandbox.stats() };
}

describe('complete_checkout asks the person first when the client can elicit', () => {
  it('asks in form mode for one boolean, naming the total and merchant; accept pays', async () => {
    const { call, id, asked, stats } = await inProcess({ elicitation: {} }, () => ({ action: 'accept', content: { confirm: true } }));
    const paid = await call('complete_checkout', { checkout_session_id: id, payment_data: PAY });
    expect(paid.checkout?.status).toBe('completed');
    expect(asked).toHaveLength(1);
    const params = asked[0].params as { mode?: string; message: string; requestedSchema: { properties: Record<string, { type: string }> } };
    expect(params.mode ?? 'form').toBe('form');
    expect(Object.entries(params.requestedSchema.properties).map(([k, v]) => [k, v.type])).toEqual([['confirm', 'boolean']]);
    const total = paid.checkout!.totals.find((t) => t.type === 'total')!.amount;
    expect(params.message).toBe(`Pay USD ${(total / 100).toFixed(2)} to the merchant "sandbox" for checkout "${id}"? Nothing is charged unless you confirm.`);
    expect((await stats()).charges).toBe(1);
  });

  it.each<[string, Answer]>([
    ['decline', () => ({ action: 'decline' })],
    ['cancel', () => ({ action: 'cancel' })],
    ['accept without the box ticked', () => ({ action: 'accept', content: { confirm: false } })],
    ['an error from the client', () => Promise.reject(new Error('no person here'))],
  ])('%s → declined_by_user, nothing sent or charged', async (_label, answer) => {
    const { call, id, stats } = await inProcess({ elicitation: {} }, answer);
    const before = await stats();
    const result = await call('complete_checkout', { checkout_session_id: id, payment_data: PAY });
    expect(result.error).toMatchObject({ type: 'payment_error', code: 'declined_by_user', retryable: false });
    expect(await stats()).toEqual(before);
    const again = await call('get_checkout', { checkout_session_id: id });
    expect(again.checkout?.status).toBe('ready_for_payment');
  });

  it('R5: a replay of a completed checkout returns the order without asking again', async () => {
    const { call, id, asked } = await inProcess({ elicitation: {} }, () => ({ action: 'accept', content: { confirm: true } }));
    await call('complete_checkout', { checkout_session_id: id, payment_data: PAY });
    const replay = await call('complete_checkout', { checkout_session_id: id, payment_data: PAY });
    expect(replay.idempotency?.replayed).toBe(true);
    expect(asked).toHaveLength(1);
  });

  it('a client without elicitation (or with URL mode only) is not asked and proceeds', async () => {
    for (const capabilities of [{}, { elicitation: { url: {} } }]) {
      const { call, id, asked } = await inProcess(capabilities, () => ({ action: 'decline' }));
      expect((await call('complete_checkout', { checkout_session_id: id, payment_data: PAY })).checkout?.status).toBe('completed');
      expect(asked).toHaveLength(0);
    }
  });
});

describe('the words', () => {
  it('amounts use the currency’s own decimals', () => {
    expect(formatAmount(4599, 'usd')).toBe('USD 45.99');
    expect(formatAmount(4599, 'jpy')).toBe('JPY 4,599');
    expect(formatAmount(4599, 'kwd')).toBe('KWD 4.599');
  });

  it('R14: HUF and TWD amounts are ISO hundredths, whatever locale data says: the person sees the charge, not 100 times it', () => {
    expect(formatAmount(150000, 'huf')).toBe('HUF 1,500.00');
    expect(formatAmount(150000, 'twd')).toBe('TWD 1,500.00');
  });

  it('R14: asked again while an earlier attempt is unknown, the person is told the cart changed and that attempt may still go through', () => {
    expect(confirmMessage({ checkoutId: 'cs_1', merchant: 'acp:shop.example', total: 8113, currency: 'usd', earlierAttempt: true })).toBe(
      'The checkout changed since you approved it. Pay USD 81.13 to the merchant "acp:shop.example" for checkout "cs_1"? An earlier payment attempt for it has no known outcome yet and may still go through at this amount; nothing else is sent unless you confirm.',
    );
  });

  it('without a total it still names the merchant and checkout', () => {
    expect(confirmMessage({ checkoutId: 'cs_1', merchant: 'acp:shop.example', currency: 'eur' })).toBe(
      'Pay the checkout total to the merchant "acp:shop.example" for checkout "cs_1"? Nothing is charged unless you confirm.',
    );
  });
});

describe('over stdio (the built server)', () => {
  it('decline charges nothing, then accept pays once', async () => {
    const db = join(tempDir(), 'confirm.db');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ONCE_STORE: `sqlite://${db}` },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-confirm', version: '1' }, { capabilities: { elicitation: {} } });
    let accept = false;
    client.setRequestHandler(ElicitRequestSchema, async () => (accept ? { action: 'accept', content: { confirm: true } } : { action: 'decline' }));
    await client.connect(transport);
    try {
      const call = async (name: string, args: Record<string, unknown>) => structured((await client.callTool({ name, arguments: args })) as CallToolResult);
      const id = (await call('create_checkout', CART)).checkout!.id;
      expect((await call('complete_checkout', { checkout_session_id: id, payment_data: PAY })).error?.code).toBe('declined_by_user');
      accept = true;
      expect((await call('complete_checkout', { checkout_session_id: id, payment_data: PAY })).checkout?.status).toBe('completed');
    } finally {
      await client.close();
    }
    const store = await openSqliteStore(db);
    try {
      expect(await new SandboxMerchant({ store }).stats()).toMatchObject({ orders: 1, charges: 1 });
    } finally {
      await store.close();
    }
  });
});
