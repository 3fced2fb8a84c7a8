// Issue 13, end to end: the built server (stdio) against merchants that speak only an older ACP version, over
// REST and over ACP's MCP binding. A fixed ACP_API_VERSION sends that version's bodies (not only its header);
// `auto` finds the newest version both speak, from /.well-known/acp.json or from the merchant's refusal.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import type { AcpVersion } from '../src/backends/acp/versions.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { ADDRESS, startServer, structured, tempDir, type RunningServer } from './support/server-process.js';

const API_KEY = 'acp_versions_secret_token_0123456789';
const PAY = { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };

let running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.reverse()) await r.close().catch(() => {});
  running = [];
});

async function rig(options: { versions: AcpVersion[]; transport: 'rest' | 'mcp'; apiVersion?: string; discovery?: boolean }) {
  const merchant: MerchantServer = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { [API_KEY]: 'agent' }, versions: options.versions, discovery: options.discovery });
  running.push(merchant);
  const proxy: FaultProxy = await startFaultProxy({ target: merchant.url });
  running.push(proxy);
  const server: RunningServer = await startServer({
    ONCE_STORE: `sqlite://${join(tempDir('once-e2e-versions-'), 'ledger.db')}`,
    ONCE_BACKEND: 'acp',
    ...(options.transport === 'mcp' ? { ACP_MCP_URL: `${proxy.url}/acp/mcp` } : { ACP_BASE_URL: proxy.url }),
    ACP_API_KEY: API_KEY,
    ...(options.apiVersion ? { ACP_API_VERSION: options.apiVersion } : {}),
  });
  running.push(server);
  return { merchant, proxy, server };
}

/** create → choose express shipping → complete without a handler_id: one session, one order, at the merchant. */
async function purchase({ merchant, server }: { merchant: MerchantServer; server: RunningServer }) {
  const created = structured(
    await server.call('create_checkout', {
      items: [{ id: 'sku_tshirt', quantity: 2 }],
      currency: 'usd',
      buyer: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' },
      fulfillment_details: { address: ADDRESS },
    }),
  );
  const id = created.checkout?.id;
  expect(id, JSON.stringify(created)).toMatch(/^cs_/);
  expect(created.checkout?.line_items.map((l) => [l.item.id, l.quantity])).toEqual([['sku_tshirt', 2]]);
  const updated = structured(
    await server.call('update_checkout', { checkout_session_id: id, selected_fulfillment_options: [{ type: 'shipping', option_id: 'ship_express', item_ids: ['li_sku_tshirt'] }] }),
  );
  expect(updated.checkout?.selected_fulfillment_options?.[0].option_id, JSON.stringify(updated)).toBe('ship_express');
  const done = structured(await server.call('complete_checkout', { checkout_session_id: id, payment_data: PAY }));
  expect(done.checkout?.status, JSON.stringify(done)).toBe('completed');
  const orders = await merchant.merchant.ordersFor(id!);
  expect(orders).toHaveLength(1);
  expect(done.checkout?.order?.id).toBe(orders[0].id);
  expect((await merchant.merchant.stats()).sessions).toBe(1);
  return id!;
}

describe('issue 13: older ACP versions end to end', () => {
  it('ACP_API_VERSION=2025-09-29 against a merchant that speaks only 2025-09-29 completes a purchase, in 2025-09-29 bodies (REST)', async () => {
    const r = await rig({ versions: ['2025-09-29'], transport: 'rest', apiVersion: '2025-09-29' });
    await purchase(r);
    const posts = r.proxy.log.filter((e) => e.method === 'POST');
    expect(posts.every((e) => e.headers['api-version'] === '2025-09-29')).toBe(true);
    expect(posts[0].body).toMatchObject({ items: [{ id: 'sku_tshirt', quantity: 2 }], fulfillment_address: ADDRESS, buyer: { first_name: 'Ada', last_name: 'Lovelace' } });
    expect(posts[0].body).not.toHaveProperty('line_items');
    expect(posts[1].body).toEqual({ fulfillment_option_id: 'ship_express' });
    expect(posts[2].body).toEqual({ payment_data: { token: 'tok_sandbox_ok', provider: 'stripe' } });
  });

  it('auto against a merchant that speaks only 2026-01-30 picks 2026-01-30 (from /.well-known/acp.json), says so at start-up, and completes (REST)', async () => {
    const r = await rig({ versions: ['2026-01-30'], transport: 'rest' });
    await purchase(r);
    const started = r.server.stderr.join('').split('\n').find((line) => line.includes('"event":"started"'));
    expect(started).toMatch(/"protocol":"ACP 2026-01-30 over REST [^"]*\(auto: \/\.well-known\/acp\.json lists 2026-01-30; newest we both speak\)"/);
    expect(r.proxy.log.filter((e) => e.method === 'POST').every((e) => e.headers['api-version'] === '2026-01-30')).toBe(true);
  });

  it('auto against a 2026-01-30-only merchant over the MCP binding completes in 2026-01-30 (meta.api_version)', async () => {
    const r = await rig({ versions: ['2026-01-30'], transport: 'mcp' });
    await purchase(r);
    const calls = r.proxy.log.filter((e) => e.method === 'POST' || e.method === 'GET');
    expect(calls.filter((e) => e.path.startsWith('/checkout_sessions')).every((e) => e.headers['api-version'] === '2026-01-30')).toBe(true);
  });

  it('auto without a discovery document learns the version from the unsupported_api_version answer (2025-12-12 only, MCP)', async () => {
    const r = await rig({ versions: ['2025-12-12'], transport: 'mcp', discovery: false });
    await purchase(r);
    const started = r.server.stderr.join('').split('\n').find((line) => line.includes('"event":"started"'));
    expect(started).toMatch(/ACP 2025-12-12 over MCP .*its unsupported_api_version answer lists 2025-12-12/);
    const posts = r.proxy.log.filter((e) => e.method === 'POST');
    expect(posts[0].body).toMatchObject({ items: [{ id: 'sku_tshirt', quantity: 2 }], fulfillment_details: { address: ADDRESS } });
    expect(posts[1].body).toEqual({ selected_fulfillment_options: [{ type: 'shipping', shipping: { option_id: 'ship_express', item_ids: ['li_sku_tshirt'] } }] });
  });

  it('a fixed version the merchant does not speak is refused in one clear sentence naming what it speaks', async () => {
    const r = await rig({ versions: ['2025-09-29'], transport: 'rest', apiVersion: '2026-04-17' });
    const answer = structured(await r.server.call('create_checkout', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }));
    expect(answer.error?.message).toMatch(/does not speak ACP 2026-04-17; it lists 2025-09-29\. Set ACP_API_VERSION to one of them, or to auto/);
    expect((await r.merchant.merchant.stats()).sessions).toBe(0);
  });
});
