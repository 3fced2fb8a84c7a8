// Remote mode (Streamable HTTP), a session and the token that opened it: the HTTP layer and the real tool server in one process,
// the sandbox merchant on a memory store, driven over real HTTP by raw requests and the MCP SDK's client.
import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import { silentLogger } from '../src/log.js';
import { createServer } from '../src/server/server.js';
import { openMemoryStore } from '../src/store/memory.js';
import { parseHttpTokens } from '../src/transports/bearer-tokens.js';
import { serveHttp, type HttpServer } from '../src/transports/http.js';
import { tools } from '../tools/index.js';
import { chargesAt, HOUR } from './support/checkout-engine.js';
import { newToken } from './support/http-server-process.js';
import { ADDRESS } from './support/server-process.js';

const CART = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const PAY_OK = { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** The HTTP server with the product's tools on a sandbox merchant, as `serve --http` wires it, in this process. */
async function remote(tokensText: string): Promise<{ http: HttpServer; charges: () => Promise<unknown[]> }> {
  const merchantStore = openMemoryStore();
  const backend = new SandboxBackend({ store: merchantStore });
  const ledger = new Ledger({ store: openMemoryStore(), ttlMs: 23 * HOUR });
  const checkouts = new Checkouts({ ledger, backend, windowMs: HOUR });
  const http = await serveHttp({
    host: '127.0.0.1',
    port: 0,
    tokens: parseHttpTokens(tokensText)!,
    logger: silentLogger,
    newServer: (principal) => createServer({ checkouts, principal, logger: silentLogger, version: 'test', tools }),
  });
  cleanups.push(() => http.close());
  return { http, charges: () => chargesAt(merchantStore) };
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(url: string, headers: Record<string, string>, body?: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function sdkClient(url: string, token: string, elicit?: (id: string | number) => Promise<ElicitResult>) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'review', version: '1' }, { capabilities: elicit ? { elicitation: {} } : {} });
  if (elicit) client.setRequestHandler(ElicitRequestSchema, async (_request, extra) => elicit(extra.requestId));
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, sessionId: () => transport.sessionId! };
}

function structured(result: CallToolResult) {
  return result.structuredContent as { checkout?: { id: string; status: string }; error?: { code: string } };
}

describe('remote mode: a session belongs to the token that opened it (README, Remote mode, Isolation)', () => {
  it('R15/Isolation: an Mcp-Session-Id opened with one token is 404 with another token, even one naming the same principal', async () => {
    // Two agents of one team, each with its own token (README: "each agent with its own token").
    const agentOne = newToken('one');
    const agentTwo = newToken('two');
    const { http } = await remote(`${agentOne}=team,${agentTwo}=team`);
    const opened = await raw(http.url, { ...MCP_HEADERS, authorization: `Bearer ${agentOne}` }, INITIALIZE);
    expect(opened.status).toBe(200);
    const session = opened.headers['mcp-session-id'] as string;
    expect(session).toMatch(/\S/);

    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    const withOwnToken = await raw(http.url, { ...MCP_HEADERS, authorization: `Bearer ${agentOne}`, 'mcp-session-id': session }, list);
    expect(withOwnToken.status).toBe(200);
    // README: "A session (Mcp-Session-Id) belongs to the token that opened it; used with another token it is 404."
    const withOtherToken = await raw(http.url, { ...MCP_HEADERS, authorization: `Bearer ${agentTwo}`, 'mcp-session-id': session }, list);
    expect(withOtherToken.status).toBe(404);
  });

  it("R15, R14: the person's approval asked of the paying client cannot be answered by another client (token) that learned its session id", async () => {
    const payer = newToken('payer');
    const other = newToken('other');
    const { http, charges } = await remote(`${payer}=team,${other}=team`);

    // The paying client asks its person; the person has not answered yet.
    let elicitationId: string | number | undefined;
    let answerPerson!: (answer: ElicitResult) => void;
    const personAnswers = new Promise<ElicitResult>((resolve) => (answerPerson = resolve));
    cleanups.push(async () => answerPerson({ action: 'decline' }));
    const paying: { sessionId?: string; call?: Promise<CallToolResult> } = {};
    const asked = new Promise<void>((resolve) => {
      void sdkClient(http.url, payer, async (id) => {
        elicitationId = id;
        resolve();
        return personAnswers;
      }).then(async ({ client, sessionId }) => {
        const created = structured((await client.callTool({ name: 'create_checkout', arguments: CART })) as CallToolResult);
        paying.sessionId = sessionId();
        paying.call = client.callTool({ name: 'complete_checkout', arguments: { checkout_session_id: created.checkout!.id, payment_data: PAY_OK } }) as Promise<CallToolResult>;
        paying.call.catch(() => {}); // closed by the clean-up when an assertion above fails
      });
    });
    await asked;
    expect(elicitationId).toBeDefined();

    // Another client, with its own token, posts "yes" as the answer to that question on the payer's session.
    const approval = JSON.stringify({ jsonrpc: '2.0', id: elicitationId, result: { action: 'accept', content: { confirm: true } } });
    const forged = await raw(http.url, { ...MCP_HEADERS, authorization: `Bearer ${other}`, 'mcp-session-id': paying.sessionId! }, approval);
    expect(forged.status).toBe(404);

    // The person declines: nothing is charged.
    answerPerson({ action: 'decline' });
    const result = structured(await paying.call!);
    expect(result.error?.code).toBe('declined_by_user');
    expect(await charges()).toEqual([]);
  });
});
