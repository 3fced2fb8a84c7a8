// Issue "the merchant is untrusted input", case 4, through the whole engine: a hostile ACP merchant over real
// HTTP echoes our API key and the payment token in every answer it gives to complete. Neither reaches the
// tool result, the ledger's records or the checkout's head (R10).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcpBackend } from '../src/backends/acp/acp-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import { toCallToolResult } from '../src/server/server.js';
import { openMemoryStore } from '../src/store/memory.js';
import { acpSession } from './support/acp-session.js';

const API_KEY = 'acp_live_SECRETKEY_0123456789';
const TOKEN = 'tok_live_PAYMENTTOKEN_987654';

const session = (extra: Record<string, unknown> = {}) => acpSession('cs_hostile_1', extra);

describe('R10 merchant untrusted: echoed secrets, end to end', () => {
  let server: Server;
  let url: string;
  let completes = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const echo = `you sent ${req.headers.authorization ?? ''} and ${body}`;
        const send = (status: number, out: unknown) => {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(out));
        };
        if (req.method === 'POST' && req.url?.endsWith('/complete')) {
          completes += 1;
          // First a refusal echoing everything, then a business error in messages[] doing the same.
          if (completes === 1) return send(400, { type: 'invalid_request', code: 'bad_request', message: echo });
          return send(200, session({ messages: [{ type: 'error', code: 'payment_declined', content_type: 'plain', content: echo }] }));
        }
        if (req.method === 'GET') return send(200, session({ messages: [{ type: 'info', content_type: 'plain', content: `seen: ${req.headers.authorization ?? ''}` }] }));
        return send(201, session());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('R10: neither the API key nor the payment token appears in a tool result, a record or a head', async () => {
    const store = openMemoryStore();
    const backend = new AcpBackend({ endpoint: { transport: 'rest', url: new URL(url) }, apiKey: API_KEY, apiVersion: '2026-04-17', timeoutMs: 5_000 });
    const checkouts = new Checkouts({ ledger: new Ledger({ store, ttlMs: 23 * 3_600_000 }), backend, windowMs: 3_600_000 });
    const created = await checkouts.create('alice', { items: [{ id: 'sku_1', quantity: 1 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const pay = { payment_data: { handler_id: 'h', instrument: { type: 'card', credential: { type: 'spt', token: TOKEN } } } };
    const results = [
      await checkouts.complete('alice', created.checkout.id, pay),
      await checkouts.complete('alice', created.checkout.id, pay),
      await checkouts.get('alice', created.checkout.id),
    ];
    expect(completes).toBeGreaterThanOrEqual(2);
    const told = JSON.stringify(results.map((r) => toCallToolResult(r)));
    const kept: unknown[] = [];
    for await (const entry of store.entries('')) kept.push(entry);
    for (const text of [told, JSON.stringify(kept)]) {
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(TOKEN);
    }
    expect(JSON.stringify(kept)).toContain('[redacted]');
  });
});
