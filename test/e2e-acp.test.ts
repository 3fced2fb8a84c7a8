// End to end over ACP: the built server (node dist/src/index.js, ONCE_BACKEND=acp) spawned over stdio, talking
// HTTP to an in-process sandbox merchant through the fault proxy. The test plays the agent: on outcome_unknown
// it calls again. Every fault × operation must end in one session and one order, checked at the merchant (R6).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startFaultProxy, type FaultProxy, type ProxyEntry, type ProxyFault, type ProxyRule } from './support/fault-proxy.js';
import { ADDRESS, startServer, structured, tempDir, type RunningServer, type Structured } from './support/server-process.js';

const API_KEY = 'acp_e2e_secret_token_0123456789';
const TIMEOUT_MS = 1_000;
const PAY = { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };
const cart = (taskId: string) => ({
  items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }],
  currency: 'usd',
  fulfillment_details: { address: ADDRESS },
  task_id: taskId,
});

interface Rig {
  merchant: MerchantServer;
  proxy: FaultProxy;
  server: RunningServer;
}

type Transport = 'rest' | 'mcp';

async function rig(options: { ignoreIdempotencyKeys?: boolean; transport?: Transport } = {}): Promise<Rig> {
  const { transport = 'rest', ...merchantOptions } = options;
  const merchant = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { [API_KEY]: 'agent' }, ...merchantOptions });
  const proxy = await startFaultProxy({ target: merchant.url });
  const server = await startServer({
    ONCE_STORE: `sqlite://${join(tempDir('once-e2e-acp-'), 'ledger.db')}`,
    ONCE_BACKEND: 'acp',
    ...(transport === 'mcp' ? { ACP_MCP_URL: `${proxy.url}/acp/mcp` } : { ACP_BASE_URL: proxy.url }),
    ACP_API_KEY: API_KEY,
    ACP_TIMEOUT: `${TIMEOUT_MS}ms`,
  });
  return { merchant, proxy, server };
}

async function stop(r: Rig | undefined): Promise<void> {
  await r?.server.close().catch(() => {});
  await r?.proxy.close();
  await r?.merchant.close();
}

/** The agent: call the tool, and call again with the same arguments while the outcome is unknown. */
async function agent(server: RunningServer, tool: string, args: Record<string, unknown>): Promise<Structured[]> {
  const answers: Structured[] = [];
  for (let call = 0; call < 5; call += 1) {
    const answer = structured(await server.call(tool, args));
    answers.push(answer);
    if (answer.error?.code !== 'outcome_unknown') break;
  }
  return answers;
}

const FAULTS: Array<{ fault: ProxyFault; label: string; rule?: Partial<ProxyRule> }> = [
  { fault: 'drop_response', label: 'response lost after commit' },
  { fault: 'drop_request', label: 'request lost' },
  { fault: 'error_5xx', label: '5xx (not forwarded)' },
  { fault: 'in_flight_409', label: '409 in flight + Retry-After 1' },
  { fault: 'delay', label: 'slow past the timeout', rule: { delayMs: TIMEOUT_MS * 2 } },
  { fault: 'cut_body', label: 'body cut mid-way' },
];
/** Over the MCP binding: the same faults, a cut SSE body is a dropped stream, and -32000 stands beside 5xx. */
const MCP_FAULTS: typeof FAULTS = [
  ...FAULTS.map((f) => (f.fault === 'cut_body' ? { ...f, label: 'stream dropped mid-answer' } : f.fault === 'in_flight_409' ? { ...f, label: '-32000 idempotency_in_flight' } : f)),
  { fault: 'rpc_error', label: '-32000 internal error (not forwarded)' },
];
const OPERATIONS = ['create', 'update', 'complete'] as const;
type Op = (typeof OPERATIONS)[number];

const PATHS: Record<Op, RegExp> = {
  create: /^\/checkout_sessions$/,
  update: /^\/checkout_sessions\/[^/]+$/,
  complete: /^\/checkout_sessions\/[^/]+\/complete$/,
};

interface Row {
  fault: string;
  operation: Op;
  calls: number;
  first: string;
  wire: string;
  sessions: number;
  orders: number;
  charges: number;
}
const table: Row[] = [];

function wire(entries: ProxyEntry[]): string {
  return entries.map((e) => `${e.method === 'GET' ? 'GET' : 'POST'}${e.fault ? `(${e.fault})` : ''}`).join(' → ');
}

// The fault × operation table, for the record (printed and written to the temp dir).
afterAll(() => {
  if (table.length === 0) return;
  const lines = ['| fault | operation | tool calls | first answer | wire (this operation) | sessions | orders | charges |', '|---|---|---|---|---|---|---|---|'];
  for (const row of table) {
    lines.push(`| ${row.fault} | ${row.operation} | ${row.calls} | ${row.first} | ${row.wire} | ${row.sessions} | ${row.orders} | ${row.charges} |`);
  }
  writeFileSync(join(tempDir('once-acp-table-'), 'fault-table.md'), `${lines.join('\n')}\n`);
  console.info(lines.join('\n'));
});

for (const transport of ['rest', 'mcp'] as const) describe(`ACP over ${transport === 'rest' ? 'REST' : "ACP's MCP binding"} with faults: exactly one session and one order per intent`, () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig({ transport });
  });
  afterAll(() => stop(r));

  for (const { fault, label, rule } of transport === 'rest' ? FAULTS : MCP_FAULTS) {
    for (const operation of OPERATIONS) {
      it(`R6: ${operation} over ${transport} survives "${label}"`, async () => {
        const { proxy, merchant, server } = r;
        const taskId = `${fault}-${operation}`;
        const sessionsBefore = (await merchant.merchant.stats()).sessions;
        const plan = () => proxy.plan({ fault, method: 'POST', path: PATHS[operation], ...rule });
        const start = proxy.log.length;

        if (operation === 'create') plan();
        const created = await agent(server, 'create_checkout', cart(taskId));
        const id = created.at(-1)?.checkout?.id;
        expect(id, JSON.stringify(created.at(-1))).toMatch(/^cs_/);
        let answers = created;

        if (operation === 'update') plan();
        const updated = await agent(server, 'update_checkout', { checkout_session_id: id, buyer: { email: `${taskId}@example.com` } });
        expect(updated.at(-1)?.checkout?.buyer).toEqual({ email: `${taskId}@example.com` });
        if (operation === 'update') answers = updated;

        if (operation === 'complete') plan();
        const completed = await agent(server, 'complete_checkout', { checkout_session_id: id, payment_data: PAY });
        expect(completed.at(-1)?.checkout?.status, JSON.stringify(completed.at(-1))).toBe('completed');
        if (operation === 'complete') answers = completed;

        // Exactly once, at the merchant.
        const sessions = (await merchant.merchant.stats()).sessions - sessionsBefore;
        const orders = await merchant.merchant.ordersFor(id!);
        const charges = await merchant.merchant.chargesFor(id!);
        expect(sessions).toBe(1);
        expect(orders).toHaveLength(1);
        expect(charges).toHaveLength(1);
        expect(completed.at(-1)?.checkout?.order?.id).toBe(orders[0].id);

        // The faulted operation on the wire: the same key on every POST, never a new one (R1, R6).
        const entries = proxy.log.slice(start).filter((e) => (e.method === 'POST' && PATHS[operation].test(e.path)) || e.method === 'GET');
        const posts = entries.filter((e) => e.method === 'POST');
        expect(posts[0].fault).toBe(fault);
        expect(new Set(posts.map((e) => e.headers['idempotency-key'])).size).toBe(1);
        expect(posts[0].headers['idempotency-key'].length).toBeLessThanOrEqual(36);
        if (fault === 'in_flight_409') {
          // Waited out inside one tool call: the agent never saw it.
          expect(answers).toHaveLength(1);
          expect(wire(entries)).toBe('POST(in_flight_409) → POST');
        } else {
          expect(answers[0].error).toMatchObject({ code: 'outcome_unknown', retryable: true });
          expect(answers).toHaveLength(2);
        }
        if (operation === 'complete' && fault !== 'in_flight_409') {
          // R6: a complete without an answer is reconciled by a GET before anything is resent.
          expect(entries[0]).toMatchObject({ method: 'POST', fault });
          expect(entries[1].method).toBe('GET');
          const committed = entries[0].forwarded;
          // If the merchant acted, the GET shows the order and nothing is resent; if not, one resend, same key.
          expect(wire(entries)).toBe(committed ? `POST(${fault}) → GET` : `POST(${fault}) → GET → POST`);
        }
        table.push({
          fault: `${label} (${transport})`,
          operation,
          calls: answers.length,
          first: answers[0].error?.code ?? 'succeeded',
          wire: wire(entries),
          sessions,
          orders: orders.length,
          charges: charges.length,
        });
      });
    }
  }

  it('R10: the API key appears in no tool result and no server log line', async () => {
    const { server } = r;
    const answer = await server.call('create_checkout', cart('secret-check'));
    expect(JSON.stringify(answer)).not.toContain(API_KEY);
    expect(server.stderr.join('')).not.toContain(API_KEY);
  });
});

describe('a merchant that ignores Idempotency-Key still gets one order per checkout', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig({ ignoreIdempotencyKeys: true });
  });
  afterAll(() => stop(r));

  for (const fault of ['drop_response', 'delay', 'cut_body', 'error_5xx'] as const) {
    it(`R5/R6: complete with "${fault}" is anchored and settled by a GET, never charged twice`, async () => {
      const { proxy, merchant, server } = r;
      const id = structured(await server.call('create_checkout', cart(`ignore-${fault}`))).checkout!.id;
      proxy.plan({ fault, method: 'POST', path: PATHS.complete, delayMs: TIMEOUT_MS * 2 });
      const answers = await agent(server, 'complete_checkout', { checkout_session_id: id, payment_data: PAY });
      expect(answers.at(-1)?.checkout?.status).toBe('completed');
      // A repeat after success sends nothing (R5).
      expect(structured(await server.call('complete_checkout', { checkout_session_id: id, payment_data: PAY })).idempotency?.replayed).toBe(true);
      expect(await merchant.merchant.ordersFor(id)).toHaveLength(1);
      expect(await merchant.merchant.chargesFor(id)).toHaveLength(1);
      table.push({
        fault: `${fault} (merchant ignores keys)`,
        operation: 'complete',
        calls: answers.length,
        first: answers[0].error?.code ?? 'succeeded',
        wire: wire(proxy.log.filter((e) => e.path.startsWith(`/checkout_sessions/${id}`))),
        sessions: 1,
        orders: 1,
        charges: 1,
      });
    });
  }
});

describe("ACP's MCP binding: a merchant restart that forgets the MCP session", () => {
  it('R6 (issue 13): complete after the restart meets 404 on its MCP session → outcome_unknown; the retry opens a new session, reads, sends once with the same key', async () => {
    const store = openMemoryStore();
    const tokens = { [API_KEY]: 'agent' };
    let merchant = await serveMerchant({ port: 0, store, tokens });
    const proxy = await startFaultProxy({ target: merchant.url });
    const server = await startServer({
      ONCE_STORE: `sqlite://${join(tempDir('once-e2e-acp-mcp-'), 'ledger.db')}`,
      ONCE_BACKEND: 'acp',
      ACP_MCP_URL: `${proxy.url}/acp/mcp`,
      ACP_API_KEY: API_KEY,
      ACP_TIMEOUT: `${TIMEOUT_MS}ms`,
    });
    try {
      const created = await agent(server, 'create_checkout', cart('restart'));
      const id = created.at(-1)!.checkout!.id;
      await merchant.close();
      merchant = await serveMerchant({ port: merchant.port, store, tokens });
      const start = proxy.log.length;
      const answers = await agent(server, 'complete_checkout', { checkout_session_id: id, payment_data: PAY });
      expect(answers[0].error).toMatchObject({ code: 'outcome_unknown', retryable: true });
      expect(answers.at(-1)?.checkout?.status).toBe('completed');
      expect(await merchant.merchant.ordersFor(id)).toHaveLength(1);
      expect(await merchant.merchant.chargesFor(id)).toHaveLength(1);
      expect((await merchant.merchant.stats()).sessions).toBe(1);
      const calls = proxy.log.slice(start).filter((e) => e.method !== 'MCP');
      expect(calls.map((e) => `${e.method} ${e.upstreamStatus ?? '-'}`)).toEqual(['POST 404', 'GET 200', 'POST 200']);
      expect(calls[0].headers['idempotency-key']).toBe(calls[2].headers['idempotency-key']);
      // The new MCP session was opened after the 404 (initialize), before the read.
      expect(proxy.log.slice(start).some((e) => e.path.endsWith('#initialize'))).toBe(true);
    } finally {
      await server.close().catch(() => {});
      await proxy.close();
      await merchant.close();
    }
  });
});
