// Remote mode end to end: the built server spawned with `serve --http`, driven over real HTTP by the MCP SDK's
// Streamable HTTP client (and by bare requests where a client would never go), checked against the store.
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveMerchant } from '../src/backends/sandbox/http.js';
import { SandboxMerchant } from '../src/backends/sandbox/merchant.js';
import { openMemoryStore } from '../src/store/memory.js';
import { parseStoreUrl } from '../src/config/store-url.js';
import { openStore } from '../src/store/open.js';
import {
  connectHttp,
  newToken,
  startHttpServer,
  type HttpClient,
  type HttpServerProcess,
} from './support/http-server-process.js';
import { ADDRESS, structured, tempDir } from './support/server-process.js';
import { freshPostgresDatabase, postgresAvailable } from './support/services.js';

const CART = { items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const PAY_OK = { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };
const PAY_DECLINE = { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_decline' } } };
const PAN = '4111 1111 1111 1111';

const servers: HttpServerProcess[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(env: Record<string, string>, listen?: string): Promise<HttpServerProcess> {
  const server = await startHttpServer({ ONCE_RATE_LIMIT: 'off', ...env }, listen);
  servers.push(server);
  return server;
}

async function connect(...args: Parameters<typeof connectHttp>): Promise<HttpClient> {
  const client = await connectHttp(...args);
  clients.push(client);
  return client;
}

function sqliteStore(): string {
  return `sqlite://${join(tempDir('once-http-'), 'ledger.db')}`;
}

/** What the store holds: the sandbox merchant's counts, ledger records, and every entry as text. */
async function storeContents(storeUrl: string) {
  const store = await openStore(parseStoreUrl(storeUrl));
  try {
    const entries: string[] = [];
    for await (const [key, value] of store.entries<unknown>('')) entries.push(`${key} ${JSON.stringify(value)}`);
    return {
      stats: await new SandboxMerchant({ store }).stats(),
      ledgerRecords: entries.filter((e) => e.startsWith('rec:')).length,
      entries,
    };
  } finally {
    await store.close();
  }
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A bare HTTP request (node:http lets a test set Host, which fetch does not). */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname, method: init.method ?? 'POST', headers: init.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('authentication and DNS-rebinding checks', () => {
  const alice = newToken('alice');
  const bob = newToken('bob');
  let server: HttpServerProcess;
  beforeAll(async () => {
    // Started outside `servers` so the describe's tests share it.
    server = await startHttpServer({ ONCE_STORE: sqliteStore(), ONCE_HTTP_TOKENS: `${alice}=alice,${bob}=bob`, ONCE_RATE_LIMIT: 'off' });
  });
  afterAll(async () => server.stop());

  it('no token → 401 with WWW-Authenticate: Bearer realm="once-checkout"; the SDK client cannot connect', async () => {
    const answer = await raw(server.url, { headers: MCP_HEADERS, body: INITIALIZE });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="once-checkout"');
    await expect(connectHttp(server.url, undefined)).rejects.toThrow(/401|Unauthorized/);
  });

  it('a wrong token → 401 with error="invalid_token"; so does a token with one character changed', async () => {
    for (const token of ['not-a-token-at-all-xyz', `${alice.slice(0, -1)}${alice.endsWith('a') ? 'b' : 'a'}`]) {
      const answer = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: INITIALIZE });
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="once-checkout", error="invalid_token"');
    }
    await expect(connectHttp(server.url, 'wrong-token-wrong-token')).rejects.toThrow(/401|Unauthorized/);
  });

  it('a foreign Host → 403, even with a good token (DNS rebinding); localhost variants are served', async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${alice}` };
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`]) {
      expect((await raw(server.url, { headers: { ...auth, host }, body: INITIALIZE })).status).toBe(403);
    }
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`]) {
      expect((await raw(server.url, { headers: { ...auth, host }, body: INITIALIZE })).status).toBe(200);
    }
  });

  it('a foreign Origin → 403; no Origin (a non-browser client) and a local Origin are served', async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${alice}` };
    for (const origin of ['https://evil.example', `http://evil.example:${server.port}`, 'null']) {
      expect((await raw(server.url, { headers: { ...auth, origin }, body: INITIALIZE })).status).toBe(403);
    }
    expect((await raw(server.url, { headers: { ...auth, origin: `http://localhost:${server.port}` }, body: INITIALIZE })).status).toBe(200);
    const client = await connect(server.url, alice);
    expect((await client.client.listTools()).tools).toHaveLength(5);
  });

  it('a body over 1 MB → 413, and nothing else is read', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(1_100_000) } });
    const answer = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}` }, body: big });
    expect(answer.status).toBe(413);
    // Without a Content-Length (chunked), counted while streaming.
    const chunked = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}`, 'transfer-encoding': 'chunked' }, body: big });
    expect(chunked.status).toBe(413);
  });

  it("a session opened with alice's token cannot be used with bob's (404, as if it did not exist)", async () => {
    const opened = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}` }, body: INITIALIZE });
    const session = opened.headers['mcp-session-id'] as string;
    expect(session).toMatch(/\S/);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    const asBob = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${bob}`, 'mcp-session-id': session }, body: list });
    expect(asBob.status).toBe(404);
    const unknown = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${bob}`, 'mcp-session-id': 'no-such-session' }, body: list });
    expect(unknown.status).toBe(404);
    expect(asBob.body).toBe(unknown.body);
  });

  it('only /mcp is served', async () => {
    const answer = await raw(server.url.replace('/mcp', '/'), { headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}` }, body: INITIALIZE });
    expect(answer.status).toBe(404);
  });
});

describe('start-up', () => {
  it('refuses to start in HTTP mode without ONCE_HTTP_TOKENS, in one line', async () => {
    const failed = await startHttpServer({ ONCE_STORE: sqliteStore() }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failed).toMatch(/exited with 78/);
    expect(failed).toMatch(/once-checkout: ONCE_HTTP_TOKENS: is not set/);
  });

  it('binds 127.0.0.1 by default, logs the URL on stderr, and limits mutating calls to 60 a minute unless told', async () => {
    const server = await startHttpServer({ ONCE_STORE: sqliteStore(), ONCE_HTTP_TOKENS: `${newToken('alice')}=alice` }, '0');
    servers.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const started = JSON.parse(server.stderr.find((l) => l.includes('"started"'))!);
    expect(started).toMatchObject({ transport: 'http', url: server.url, rate_limit_per_minute: 60, principals: ['alice'] });
  });
});

describe.runIf(await postgresAvailable())('two principals on one PostgreSQL store', () => {
  it("B gets checkout_not_found for A's checkout on get/update/complete/cancel, and B's identical cart is B's own", async () => {
    const store = await freshPostgresDatabase('once_http_isolation');
    const alice = newToken('alice');
    const bob = newToken('bob');
    const server = await serve({ ONCE_STORE: store, ONCE_HTTP_TOKENS: `${alice}=alice,${bob}=bob` });
    const a = await connect(server.url, alice);
    const b = await connect(server.url, bob);
    const created = structured(await a.call('create_checkout', CART));
    const id = created.checkout!.id;
    const before = await storeContents(store);
    const refused = [
      await b.call('get_checkout', { checkout_session_id: id }),
      await b.call('update_checkout', { checkout_session_id: id, items: [{ id: 'sku_mug', quantity: 9 }] }),
      await b.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }),
      await b.call('cancel_checkout', { checkout_session_id: id }),
    ];
    for (const result of refused) {
      expect(result.isError).toBe(true);
      expect(structured(result).error).toMatchObject({ code: 'checkout_not_found', retryable: false });
    }
    // Nothing reached the merchant and A's checkout is untouched.
    const after = await storeContents(store);
    expect(after.stats).toEqual(before.stats);
    expect(structured(await a.call('get_checkout', { checkout_session_id: id })).checkout?.status).toBe('ready_for_payment');
    // B's identical cart is B's own checkout, not a replay of A's.
    const bobs = structured(await b.call('create_checkout', CART));
    expect(bobs.checkout?.id).not.toBe(id);
    expect(bobs.idempotency?.replayed).toBe(false);
    expect((await storeContents(store)).stats.sessions).toBe(2);
  });

  it('two server processes on different ports, one store: the same task sent to both at once charges once', async () => {
    const store = await freshPostgresDatabase('once_http_two_processes');
    const token = newToken('team');
    const tokens = `${token}=team`;
    const [one, two] = await Promise.all([serve({ ONCE_STORE: store, ONCE_HTTP_TOKENS: tokens }), serve({ ONCE_STORE: store, ONCE_HTTP_TOKENS: tokens })]);
    expect(one.port).not.toBe(two.port);
    const [c1, c2] = await Promise.all([connect(one.url, token), connect(two.url, token)]);
    const task = async (client: HttpClient) => {
      const created = structured(await client.call('create_checkout', { ...CART, task_id: 'order-42' }));
      const id = created.checkout!.id;
      let paid = structured(await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
      // R7: a duplicate that waited past its bound says `pending`; the agent calls again.
      while (paid.error?.code === 'pending') paid = structured(await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
      return { id, order: paid.checkout?.order?.id };
    };
    const [r1, r2] = await Promise.all([task(c1), task(c2)]);
    expect(r1.id).toBe(r2.id);
    expect(r1.order).toMatch(/\S/);
    expect(r2.order).toBe(r1.order);
    const seen = await storeContents(store);
    expect(seen.stats).toMatchObject({ sessions: 1, orders: 1, charges: 1 });
  });
});

describe('spending safety over HTTP', () => {
  /** One server on a fresh SQLite store, alice connected, and a checkout of hers ready for payment. */
  async function aliceWithCheckout(env: Record<string, string> = {}, options: Parameters<typeof connectHttp>[2] = {}) {
    const store = sqliteStore();
    const token = newToken('alice');
    const server = await serve({ ONCE_STORE: store, ONCE_HTTP_TOKENS: `${token}=alice`, ...env });
    const client = await connect(server.url, token, options);
    const created = structured(await client.call('create_checkout', CART));
    return { store, server, client, id: created.checkout!.id, total: created.checkout!.totals.find((t) => t.type === 'total')!.amount };
  }
  it('ONCE_MAX_ORDER_AMOUNT: complete above the cap is spend_cap_exceeded and nothing is charged', async () => {
    const { store, client, id } = await aliceWithCheckout({ ONCE_MAX_ORDER_AMOUNT: '1000' }, { elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    const result = await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK });
    expect(structured(result).error).toMatchObject({ code: 'spend_cap_exceeded', retryable: false });
    expect(client.asked).toEqual([]); // never asks the person to approve what the cap refuses
    expect((await storeContents(store)).stats.charges).toBe(0);
  });

  it('elicitation: the person is asked once with the total and merchant; a decline charges nothing, an accept pays, a replay does not ask', async () => {
    let answer: 'decline' | 'cancel' | 'accept' = 'decline';
    const { store, client, id, total } = await aliceWithCheckout({}, {
      elicit: () => (answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: answer }),
    });

    const declined = await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK });
    expect(structured(declined).error).toMatchObject({ code: 'declined_by_user', retryable: false });
    answer = 'cancel';
    const cancelled = await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK });
    expect(structured(cancelled).error).toMatchObject({ code: 'declined_by_user' });
    expect((await storeContents(store)).stats).toMatchObject({ orders: 0, charges: 0 });

    answer = 'accept';
    const paid = structured(await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
    expect(paid.checkout?.status).toBe('completed');
    expect(client.asked).toHaveLength(3);
    const message = client.asked[0];
    expect(message).toContain(`USD ${(total / 100).toFixed(2)}`);
    expect(message).toContain('sandbox');
    expect(message).toContain(id);
    expect(message).not.toMatch(/tok_|card number|password|cvc/i);

    const replay = structured(await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
    expect(replay.idempotency?.replayed).toBe(true);
    expect(client.asked).toHaveLength(3);
    expect((await storeContents(store)).stats).toMatchObject({ orders: 1, charges: 1 });
  });

  it('a client without elicitation proceeds as configured', async () => {
    const { client, id } = await aliceWithCheckout();
    const paid = structured(await client.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK }));
    expect(paid.checkout?.status).toBe('completed');
  });

  it('a card number in any argument is invalid_input, and nothing is stored or sent', async () => {
    const { store, server, client, id } = await aliceWithCheckout();
    const before = await storeContents(store);
    const calls: Array<[string, Record<string, unknown>]> = [
      ['complete_checkout', { checkout_session_id: id, payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: PAN } } } }],
      ['complete_checkout', { checkout_session_id: id, payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: '4111111111111111' } } } }],
      ['create_checkout', { ...CART, task_id: `pay with 5555-5555-5555-4444 please` }],
      ['update_checkout', { checkout_session_id: id, buyer: { email: 'a@example.com', full_name: '378282246310005' } }],
      ['create_checkout', { ...CART, card: 4111111111111111 }],
    ];
    for (const [tool, args] of calls) {
      const result = await client.call(tool, args);
      expect(structured(result).error).toMatchObject({ code: 'invalid_input', retryable: false });
      expect(structured(result).error?.message).toMatch(/looks like a card number; pass a payment token instead/);
    }
    const after = await storeContents(store);
    expect(after.entries).toEqual(before.entries);
    const pans = /4111 1111 1111 1111|4111111111111111|5555-5555-5555-4444|378282246310005/;
    expect(after.entries.join('\n')).not.toMatch(pans);
    expect(server.stderr.join('\n')).not.toMatch(pans);
  });

  it('rate limit: past ONCE_RATE_LIMIT mutating calls a minute, rate_limited (retryable, says when); reads and other principals go on', async () => {
    const alice = newToken('alice');
    const bob = newToken('bob');
    const server = await serve({ ONCE_STORE: sqliteStore(), ONCE_HTTP_TOKENS: `${alice}=alice,${bob}=bob`, ONCE_RATE_LIMIT: '3/min' });
    const a = await connect(server.url, alice);
    const b = await connect(server.url, bob);
    const id = structured(await a.call('create_checkout', CART)).checkout!.id;
    await a.call('update_checkout', { checkout_session_id: id, items: [{ id: 'sku_mug', quantity: 2 }] });
    await a.call('create_checkout', CART);
    const limited = structured(await a.call('cancel_checkout', { checkout_session_id: id }));
    expect(limited.error).toMatchObject({ type: 'service_unavailable', code: 'rate_limited', retryable: true });
    expect(limited.error?.message).toMatch(/wait \d+ s/);
    // Reads are not limited; another principal has its own bucket; a second session of alice shares hers.
    expect(structured(await a.call('get_checkout', { checkout_session_id: id })).checkout?.id).toBe(id);
    expect(structured(await b.call('create_checkout', CART)).checkout?.id).toMatch(/\S/);
    const again = await connect(server.url, alice);
    expect(structured(await again.call('create_checkout', CART)).error?.code).toBe('rate_limited');
  });
});

describe('secrets never leave', () => {
  it('no bearer token, payment token or card number appears in any tool result, log line or stored record', async () => {
    const store = sqliteStore();
    const alice = newToken('alice');
    const bob = newToken('bob');
    const server = await serve({
      ONCE_STORE: store,
      ONCE_HTTP_TOKENS: `${alice}=alice,${bob}=bob`,
      ONCE_LOG: 'debug',
      ONCE_MAX_ORDER_AMOUNT: '100000',
      ONCE_RATE_LIMIT: '40',
    });
    const a = await connect(server.url, alice, { elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    const b = await connect(server.url, bob);
    // Everything a run does: creates, updates, a decline, a payment, replays, refusals, a wrong token.
    const id = structured(await a.call('create_checkout', { ...CART, task_id: 'scan' })).checkout!.id;
    await a.call('update_checkout', { checkout_session_id: id, buyer: { email: 'ada@example.com' } });
    await a.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_DECLINE });
    await a.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK });
    await a.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK });
    await a.call('complete_checkout', { checkout_session_id: id, payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: PAN } } } });
    await b.call('complete_checkout', { checkout_session_id: id, payment_data: PAY_OK });
    const bobs = structured(await b.call('create_checkout', CART)).checkout!.id;
    await b.call('cancel_checkout', { checkout_session_id: bobs, reason: 'changed my mind' });
    await b.call('get_checkout', { checkout_session_id: bobs });
    await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}x` }, body: INITIALIZE });
    await connectHttp(server.url, `${bob.slice(0, 8)}-guess`).catch(() => {});
    await a.close();
    await b.close();
    await server.stop();

    const results = [...a.results, ...b.results].map((r) => JSON.stringify(r));
    expect(results.length).toBe(10);
    const { entries } = await storeContents(store);
    expect(entries.some((e) => e.startsWith('rec:'))).toBe(true);
    const secrets = [alice, bob, alice.slice(-16), bob.slice(-16), 'tok_sandbox_ok', 'tok_sandbox_decline', PAN, PAN.replace(/ /g, '')];
    const haystacks: Array<[string, string[]]> = [
      ['tool results', results],
      ['log lines', server.stderr],
      ['stored records', entries],
    ];
    for (const [where, texts] of haystacks) {
      expect(texts.length, where).toBeGreaterThan(0);
      for (const secret of secrets) {
        const leaked = texts.filter((t) => t.includes(secret));
        expect(leaked, `${where} contain a secret`).toEqual([]);
      }
    }
    // The complete records keep a fingerprint of the payment token in its place (R10).
    expect(entries.filter((e) => e.startsWith('rec:') && e.includes('token_fingerprint')).length).toBeGreaterThan(0);
  });

  it('with the acp backend: the merchant API key and the bearer token appear in no result, log line or record', async () => {
    const apiKey = `acp_live_${crypto.randomUUID().replace(/-/g, '')}`;
    const merchantStore = openMemoryStore();
    const merchant = await serveMerchant({ port: 0, store: merchantStore, tokens: { [apiKey]: 'our-team' } });
    try {
      const store = sqliteStore();
      const token = newToken('alice');
      const server = await serve({ ONCE_STORE: store, ONCE_HTTP_TOKENS: `${token}=alice`, ONCE_LOG: 'debug', ONCE_BACKEND: 'acp', ACP_BASE_URL: merchant.url, ACP_API_KEY: apiKey });
      const client = await connect(server.url, token, { elicit: () => ({ action: 'accept', content: { confirm: true } }) });
      const id = structured(await client.call('create_checkout', CART)).checkout!.id;
      await client.call('update_checkout', { checkout_session_id: id, buyer: { email: 'ada@example.com' } });
      await client.call('complete_checkout', { checkout_session_id: id, payment_data: { handler_id: 'sandbox', ...PAY_DECLINE } });
      const paid = structured(await client.call('complete_checkout', { checkout_session_id: id, payment_data: { handler_id: 'sandbox', ...PAY_OK } }));
      expect(paid.checkout?.status, JSON.stringify(paid.error)).toBe('completed');
      await client.call('complete_checkout', { checkout_session_id: id, payment_data: { handler_id: 'sandbox', ...PAY_OK } });
      await client.call('get_checkout', { checkout_session_id: id });
      await client.close();
      await server.stop();

      const merchantEntries: string[] = [];
      for await (const [key, value] of merchantStore.entries<unknown>('')) merchantEntries.push(`${key} ${JSON.stringify(value)}`);
      const haystacks: Array<[string, string[]]> = [
        ['tool results', client.results.map((r) => JSON.stringify(r))],
        ['log lines', server.stderr],
        ['ledger records', (await storeContents(store)).entries],
        ['merchant records', merchantEntries],
      ];
      for (const [where, texts] of haystacks) {
        expect(texts.length, where).toBeGreaterThan(0);
        for (const secret of [apiKey, apiKey.slice(-16), token, 'tok_sandbox_ok', 'tok_sandbox_decline']) {
          expect(texts.filter((t) => t.includes(secret)), `${where} contain a secret`).toEqual([]);
        }
      }
    } finally {
      await merchant.close();
    }
  });
});
