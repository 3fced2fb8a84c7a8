// The UCP backend against a business that forgot our MCP session, echoes our bearer token in an error, or answers
// an update the ledger then fails to record (its resend must carry the body first sent).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallContext } from '../src/backends/backend.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { UcpBackend } from '../src/backends/ucp/ucp-backend.js';
import { readUcpConfig } from '../src/backends/ucp/ucp-config.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { ManualClock } from '../src/ledger/clock.js';
import { nameBasedUuid } from '../src/ledger/keys.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { wrapStore } from './support/checkout-engine.js';
import { ADDRESS } from './support/server-process.js';

const PROFILE = 'https://agent.example/profiles/once-checkout.json';
const HOUR = 3_600_000;
let counter = 0;
const ctx = (): CallContext => ({ idempotencyKey: nameBasedUuid(`review-ucp-${randomUUID()}-${++counter}`), attempt: 1, requestId: randomUUID() });

/** A valid UCP 2026-04-08 checkout, as a business answers it. */
function ucpCheckout(id: string) {
  return {
    ucp: { version: '2026-04-08', status: 'success', payment_handlers: {} },
    id,
    status: 'ready_for_complete',
    currency: 'USD',
    line_items: [{ id: 'li_1', item: { id: 'sku_mug', title: 'Mug', price: 1400 }, quantity: 1, totals: [] }],
    totals: [{ type: 'subtotal', amount: 1400 }, { type: 'total', amount: 1400 }],
    links: [],
    messages: [],
  };
}

/**
 * A UCP business over MCP with stateful Streamable HTTP sessions (Mcp-Session-Id), as the MCP spec lets a server
 * have: `forgetSessions()` is what a restart or an idle-session expiry does, after which the server answers a
 * request carrying an old session id with HTTP 404 (MCP 2025-06-18, Session Management: the client MUST then
 * start a new session). `getFails` makes get_checkout a JSON-RPC error without data that echoes the caller's
 * Authorization header, as a careless business's error text can.
 */
async function statefulMcpBusiness(options: { getFails?: boolean } = {}) {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let lastAuthorization = '';
  const toolCalls: string[] = [];
  const newServer = () => {
    const server = new Server({ name: 'stateful-ucp-business', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      toolCalls.push(request.params.name);
      const id = String((request.params.arguments as { id?: unknown } | undefined)?.id ?? 'chk_new');
      if (request.params.name === 'get_checkout' && options.getFails) {
        throw new McpError(-32000, `request refused for ${lastAuthorization}`);
      }
      const body = ucpCheckout(id);
      return { structuredContent: body, content: [{ type: 'text', text: JSON.stringify(body) }] };
    });
    return server;
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<unknown>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve(text ? JSON.parse(text) : undefined);
      });
    });
  const http: HttpServer = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    lastAuthorization = String(req.headers.authorization ?? '');
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const transport = sessions.get(sessionId);
      if (!transport) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      await transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || (body as { method?: unknown } | undefined)?.method !== 'initialize') {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: ErrorCode.InvalidRequest, message: 'initialize first' }, id: null }));
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    await newServer().connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/ucp/mcp`);
  return {
    url,
    toolCalls,
    async forgetSessions() {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((t) => t.close().catch(() => {})));
    },
    async close() {
      await this.forgetSessions();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections?.();
    },
  };
}

function mcpBackend(url: URL, extra: Record<string, string> = {}) {
  const config = readUcpConfig({ UCP_MCP_URL: url.href, UCP_AGENT_PROFILE: PROFILE, UCP_TIMEOUT: '2s', ...extra });
  return new UcpBackend({ ...config, endpoint: { transport: 'mcp', url, variable: 'UCP_MCP_URL' } });
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!().catch(() => {});
});

describe('review: the UCP backend', () => {
  it('R13/MCP session management: a business that forgot our MCP session (HTTP 404) is not "no such checkout", and the next call opens a new session', async () => {
    const business = await statefulMcpBusiness();
    closers.push(() => business.close());
    const ucp = mcpBackend(business.url);
    closers.push(() => ucp.close());

    expect(await ucp.get('chk_1')).toMatchObject({ kind: 'succeeded', checkout: { id: 'chk_1' } });
    // The business restarts (or expires idle sessions): the checkout is still there, our session id is not.
    await business.forgetSessions();

    const first = await ucp.get('chk_1');
    // Observed: { kind: 'failed', code: 'checkout_not_found' } — the agent is told the checkout does not exist.
    expect(first).not.toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
    const second = await ucp.get('chk_1');
    // Observed: checkout_not_found again, and forever: the dead session is never dropped (no re-initialize).
    expect(second).toMatchObject({ kind: 'succeeded', checkout: { id: 'chk_1' } });
  });

  it('R10: the bearer token a business echoes in a JSON-RPC error reaches no result, also when update reads the checkout to build its body', async () => {
    const key = 'ucp_review_secret_bearer_0123456789';
    const business = await statefulMcpBusiness({ getFails: true });
    closers.push(() => business.close());
    const ucp = mcpBackend(business.url, { UCP_API_KEY: key });
    closers.push(() => ucp.close());

    // The same echo on a plain read is redacted (toResult): the contract holds there.
    const read = await ucp.get('chk_1');
    expect(read.kind).toBe('unknown');
    expect(JSON.stringify(read)).not.toContain(key);

    // update() first reads the checkout to build UCP's full replacement; that read's failure is returned as it is.
    const updated = await ucp.update('chk_1', { buyer: { email: 'ada@example.com' } }, ctx());
    expect(updated).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('could not be read to build') });
    // Observed: the reason reads "... MCP error -32000: request refused for Bearer ucp_review_secret_bearer_... nothing was sent".
    expect(JSON.stringify(updated)).not.toContain(key);
  });

  it('R1/R6 (checkout-rest.md: 409 on a reused key with other parameters): an update whose outcome the ledger failed to record is resent with the body first sent, not a rebuilt one', async () => {
    // The reference merchant's UCP side over REST; the ledger's store fails exactly when it records the
    // update's answer (SettleFailedError: "the store failed after the send"), so the update stays open and the
    // next call resends it under the same key, as R6 says. The backend had already thrown the kept body away.
    const clock = new ManualClock();
    const merchant: MerchantServer = await serveMerchant({ port: 0, store: openMemoryStore(), now: () => clock.now() });
    closers.push(() => merchant.close());
    let failUpdateSettles = false;
    let refusedSettles = 0;
    const inner = openMemoryStore();
    const store = wrapStore(inner, {
      replace: (k, expected, next) => {
        const record = next as { operation?: string; state?: { status?: string } };
        if (failUpdateSettles && record?.operation === 'update' && record.state?.status === 'succeeded') {
          refusedSettles += 1;
          return Promise.reject(new StoreUnavailableError('store memory:// unavailable: connection reset'));
        }
        return inner.replace(k, expected, next);
      },
    });
    const url = new URL(`${merchant.url}/ucp`);
    const config = readUcpConfig({ UCP_BASE_URL: url.href, UCP_AGENT_PROFILE: PROFILE, UCP_TIMEOUT: '2s' });
    const backend = new UcpBackend({ ...config, endpoint: { transport: 'rest', url, variable: 'UCP_BASE_URL' }, store });
    closers.push(() => backend.close());
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR, keyShape: backend.keyShape });
    const checkouts = new Checkouts({ ledger, backend, windowMs: HOUR });

    const created = await checkouts.create('alice', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } });
    expect(created.ok, JSON.stringify(created)).toBe(true);
    const id = created.ok ? created.checkout.id : '';
    const change = { items: [{ id: 'sku_mug', quantity: 1 }, { id: 'sku_cap', quantity: 1 }] };

    // The store is down for the ledger's record of this update's answer (its settle retries until the lease ends).
    failUpdateSettles = true;
    const lost = await checkouts.update('alice', id, change);
    failUpdateSettles = false;
    expect(lost).toMatchObject({ ok: false, failure: { code: 'store_unavailable' } });
    expect(refusedSettles).toBeGreaterThan(0);

    // The agent calls again, as it is told to: the open update is resent under its key.
    const again = await checkouts.update('alice', id, change);
    // Observed: { ok: false, failure: { code: 'idempotency_conflict', message: 'IDEMPOTENCY KEY COLLISION ...' } }:
    // the resend carried a body rebuilt from the checkout as the first send left it, and the business refused it.
    expect(again.ok ? 'ok' : `${again.failure.code}: ${again.failure.message}`).toBe('ok');
    expect(again.ok && again.checkout.line_items.map((l) => [l.item.id, l.quantity]).sort()).toEqual([['sku_cap', 1], ['sku_mug', 1]]);
  });
});
