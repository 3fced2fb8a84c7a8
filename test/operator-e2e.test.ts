// The operator's tools on a ledger produced by a real run: the built server spawned over stdio on a SQLite
// file, with responses lost on purpose (ONCE_SANDBOX_FAULTS); then `ledger list|show` and `reconcile` on the
// same file, checked against what the sandbox merchant itself recorded there. Also: the checkout:// resource,
// the resource_link in tool results, and the structured log lines on stderr.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_IDENTITY } from '../src/backends/sandbox/in-process-transport.js';
import { SandboxMerchant } from '../src/backends/sandbox/merchant.js';
import type { LedgerRecord } from '../src/ledger/record.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { RecordSummary, TimelineRow } from '../src/checkout/history.js';
import type { SweepEntry } from '../src/operator/reconcile-sweep.js';
import { runCli } from './support/cli-process.js';
import { ADDRESS, startServer, structured, tempDir, type RunningServer } from './support/server-process.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})));
});

const CART = { items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const pay = (token: string) => ({ instrument: { type: 'card', credential: { type: 'spt', token } } });

async function start(db: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer({ ONCE_STORE: `sqlite://${db}`, ...env });
  servers.push(server);
  return server;
}

const cli = (db: string, ...args: string[]) => runCli(args, { ONCE_STORE: `sqlite://${db}` });

async function json<T>(db: string, ...args: string[]): Promise<T> {
  const run = await cli(db, ...args, '--json');
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as T;
}

interface History {
  checkout: { id: string; status: string; order?: { id: string } };
  principal: string;
  records: RecordSummary[];
  timeline: TimelineRow[];
}

/** What the merchant recorded, from the same SQLite file; `sawKey` tells whether an Idempotency-Key reached it. */
async function merchantView(db: string, checkoutId: string) {
  const store = await openSqliteStore(db);
  try {
    const merchant = new SandboxMerchant({ store });
    const idem = new Set<string>();
    for await (const [key] of store.entries('sandbox:idem:')) idem.add(key);
    return {
      stats: await merchant.stats(),
      orders: await merchant.ordersFor(checkoutId),
      charges: await merchant.chargesFor(checkoutId),
      sawKey(path: string, key: string) {
        const hash = createHash('sha256').update(JSON.stringify([SANDBOX_IDENTITY, 'POST', path, key])).digest('hex');
        return idem.has(`sandbox:idem:${hash}`);
      },
    };
  } finally {
    await store.close();
  }
}

describe('operator tools on a chaos run with lost responses', () => {
  const db = join(tempDir('once-ops-'), 'ledger.db');
  let checkoutId = '';
  let lostCreateKey = '';

  beforeAll(async () => {
    // A clean create, then a declined payment (a genuine failure: attempt 1).
    const clean = await start(db);
    checkoutId = structured(await clean.call('create_checkout', CART)).checkout!.id;
    const declined = await clean.call('complete_checkout', { checkout_session_id: checkoutId, payment_data: pay('tok_sandbox_decline') });
    expect(structured(declined).error?.code).toBe('payment_declined');
    await clean.close();
    // Every answer of a create or complete is lost after the merchant acted.
    const lossy = await start(db, { ONCE_SANDBOX_FAULTS: 'lose_response@complete:1,lose_response@create:1' });
    const paid = await lossy.call('complete_checkout', { checkout_session_id: checkoutId, payment_data: pay('tok_sandbox_ok') });
    expect(structured(paid).error?.code).toBe('outcome_unknown');
    const created = await lossy.call('create_checkout', { ...CART, task_id: 'second-order' });
    expect(structured(created).error?.code).toBe('outcome_unknown');
    await lossy.close();
    lostCreateKey = (await json<RecordSummary[]>(db, 'ledger', 'list', '--status', 'unknown')).find((r) => r.operation === 'create')!.key;
  });

  it('ledger list --status unknown shows exactly the two ambiguous records', async () => {
    const unknown = await json<RecordSummary[]>(db, 'ledger', 'list', '--status', 'unknown');
    expect(unknown.map((r) => [r.operation, r.anchor, r.attempt])).toEqual([
      ['complete', checkoutId, 2],
      ['create', null, 1],
    ]);
    const all = await json<RecordSummary[]>(db, 'ledger', 'list', '--since', '1h');
    expect(all).toHaveLength(3);
    const text = await cli(db, 'ledger', 'list');
    expect(text.stdout.split('\n')[0]).toMatch(/^KEY\s+OPERATION\s+STATUS\s+ATTEMPT\s+CHECKOUT\s+PRINCIPAL\s+UPDATED\s+RESULT$/);
    expect(text.stdout).toContain('response lost');
  });

  it('ledger show CHECKOUT: every call sent is one the merchant saw, with one decline and one charge', async () => {
    const history = await json<History>(db, 'ledger', 'show', checkoutId);
    expect(history.records.map((r) => [r.operation, r.status])).toEqual([
      ['create', 'succeeded'],
      ['complete', 'unknown'],
    ]);
    const sends = history.timeline.filter((e) => e.event === 'sent' || e.event === 'resent');
    expect(sends.map((e) => [e.operation, e.attempt])).toEqual([
      ['create', 1],
      ['complete', 1],
      ['complete', 2],
    ]);
    // R6: the declined attempt and the retry carry different keys; each reached the merchant.
    expect(new Set(sends.map((e) => e.outbound_key)).size).toBe(3);
    const seen = await merchantView(db, checkoutId);
    expect(seen.sawKey('/checkout_sessions', sends[0].outbound_key!)).toBe(true);
    for (const send of sends.slice(1)) expect(seen.sawKey(`/checkout_sessions/${checkoutId}/complete`, send.outbound_key!)).toBe(true);
    const declined = history.timeline.filter((e) => e.code === 'payment_declined');
    expect(declined).toHaveLength(seen.stats.declines);
    expect(declined[0]).toMatchObject({ operation: 'complete', attempt: 1, event: 'failed' });
    expect(declined[0].provider_request_id).toMatch(/\S/);
    expect(history.timeline.at(-1)).toMatchObject({ operation: 'complete', attempt: 2, event: 'unknown', detail: 'response lost' });
    // The lost answer hid a real charge: the merchant charged once.
    expect(seen.charges).toHaveLength(1);

    const text = await cli(db, 'ledger', 'show', checkoutId);
    expect(text.stdout).toContain(`checkout ${checkoutId} on sandbox`);
    expect(text.stdout).toMatch(/3 call\(s\) sent to the provider/);
    expect(text.stdout).toMatch(/TIME\s+OPERATION\s+ATTEMPT\s+EVENT\s+OUTBOUND KEY\s+PROVIDER REQUEST\s+CODE\s+DETAIL/);
    expect(text.stdout).toContain('payment_declined');
  });

  it('ledger show KEY (full or the 16 characters list prints) shows one record; an unknown id exits 1', async () => {
    const full = await json<{ record: RecordSummary; timeline: TimelineRow[] }>(db, 'ledger', 'show', lostCreateKey);
    expect(full.record).toMatchObject({ operation: 'create', status: 'unknown', anchor: null });
    expect(full.timeline.map((e) => e.event)).toEqual(['claimed', 'sent', 'unknown']);
    const short = await json<{ record: RecordSummary }>(db, 'ledger', 'show', lostCreateKey.slice(0, 16));
    expect(short.record.key).toBe(lostCreateKey);
    const missing = await cli(db, 'ledger', 'show', 'cs_nope');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no record or checkout "cs_nope"/);
  });

  it('R6: reconcile settles the lost payment from the merchant, leaves the lost create to the agent, and sends nothing', async () => {
    const before = await merchantView(db, checkoutId);
    const run = await cli(db, 'reconcile');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^settled\s+complete .*provider shows succeeded: checkout completed, order ord_/m);
    expect(run.stdout).toMatch(/^needs retry create .*needs the agent's retry \(resend with the same key oc_[0-9a-f]{32}\)/m);
    expect(run.stdout).toMatch(/1 settled, 0 still unknown, 1 need the agent's retry/);

    const after = await merchantView(db, checkoutId);
    expect(after.stats).toEqual(before.stats); // no new session, charge or order: nothing was sent
    const history = await json<History>(db, 'ledger', 'show', checkoutId);
    expect(history.records.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(history.checkout.order?.id).toBe(after.orders[0].id);
    expect(history.timeline.slice(-3).map((e) => e.event)).toEqual(['taken_over', 'reconciled', 'succeeded']);
    expect(history.timeline.filter((e) => e.event === 'sent' || e.event === 'resent')).toHaveLength(3);

    const again = await json<SweepEntry[]>(db, 'reconcile');
    expect(again.map((e) => [e.operation, e.verdict])).toEqual([['create', 'needs_retry']]);
  });

  it('after reconcile the agent\'s retries replay the order and resend the lost create with its same key', async () => {
    const server = await start(db);
    const paid = structured(await server.call('complete_checkout', { checkout_session_id: checkoutId, payment_data: pay('tok_sandbox_ok') }));
    expect(paid.idempotency).toMatchObject({ outcome: 'succeeded', replayed: true, attempt: 2 });
    const sessionsBefore = (await merchantView(db, checkoutId)).stats.sessions;
    const created = structured(await server.call('create_checkout', { ...CART, task_id: 'second-order' }));
    expect(created.idempotency).toMatchObject({ key: lostCreateKey, outcome: 'succeeded', attempt: 1 });
    const seen = await merchantView(db, checkoutId);
    expect(seen.stats.sessions).toBe(sessionsBefore); // the merchant replayed its stored answer
    expect(seen.charges).toHaveLength(1);
  });
});

describe('the server runs the reconcile sweep itself', () => {
  it('R6: a server started on a ledger with a lost payment settles it from the merchant and logs it', async () => {
    const db = join(tempDir('once-ops-'), 'sweep.db');
    const lossy = await start(db, { ONCE_SANDBOX_FAULTS: 'lose_response@complete:1' });
    const id = structured(await lossy.call('create_checkout', CART)).checkout!.id;
    expect(structured(await lossy.call('complete_checkout', { checkout_session_id: id, payment_data: pay('tok_sandbox_ok') })).error?.code).toBe('outcome_unknown');
    await lossy.close();
    // The periodic pass leaves records an agent may still be retrying (changed within a minute): age this one.
    await ageRecords(db, 10 * 60_000);

    const server = await start(db);
    const line = await waitForLog(server, (l) => l.event === 'reconcile');
    expect(line).toMatchObject({ level: 'info', verdict: 'settled', operation: 'complete', anchor: id, before: 'unknown', after: 'succeeded' });
    const history = await json<History>(db, 'ledger', 'show', id);
    expect(history.checkout.status).toBe('completed');
    expect((await merchantView(db, id)).charges).toHaveLength(1);
  });
});

describe('checkout:// resources', () => {
  it('a tool result links its checkout; reading it gives the checkout and its timeline; another principal gets not found', async () => {
    const db = join(tempDir('once-ops-'), 'res.db');
    const server = await start(db);
    const result = await server.call('create_checkout', CART);
    const id = structured(result).checkout!.id;
    expect(result.content[0].type).toBe('text');
    expect(result.content[1]).toMatchObject({ type: 'resource_link', uri: `checkout://${id}`, mimeType: 'application/json' });
    await server.call('complete_checkout', { checkout_session_id: id, payment_data: pay('tok_sandbox_ok') });

    const { resourceTemplates } = await server.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['checkout://{id}']);
    const { resources } = await server.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([`checkout://${id}`]);

    const read = await server.client.readResource({ uri: `checkout://${id}` });
    const body = JSON.parse((read.contents[0] as { text: string }).text) as History & { live: boolean };
    expect(body).toMatchObject({ live: true, principal: 'local', checkout: { id, status: 'completed' } });
    expect(body.records.map((r) => r.operation)).toEqual(['create', 'complete']);
    expect(body.timeline.filter((e) => e.event === 'sent').map((e) => e.operation)).toEqual(['create', 'complete']);
    expect(JSON.stringify(body)).not.toContain('tok_sandbox_ok');

    const mallory = await start(db, { ONCE_PRINCIPAL: 'mallory' });
    await expect(mallory.client.readResource({ uri: `checkout://${id}` })).rejects.toThrow(/not found/);
    expect((await mallory.client.listResources()).resources).toEqual([]);
  });
});

describe('structured logs on stderr', () => {
  it('one JSON line per tool call with principal, operation, key, outcome, replayed, attempt, duration; no secrets', async () => {
    const db = join(tempDir('once-ops-'), 'log.db');
    const server = await start(db, { ONCE_LOG: 'info', ONCE_PRINCIPAL: 'ops-test' });
    const id = structured(await server.call('create_checkout', CART)).checkout!.id;
    await server.call('complete_checkout', { checkout_session_id: id, payment_data: pay('tok_sandbox_ok') });
    await server.call('complete_checkout', { checkout_session_id: id, payment_data: pay('tok_sandbox_ok') });
    await server.call('get_checkout', { checkout_session_id: 'cs_unknown' });
    const calls = (await waitForLogs(server, (l) => l.event === 'tool_call', 4)).filter((l) => l.event === 'tool_call');
    expect(calls.map((l) => [l.operation, l.outcome, l.replayed, l.attempt])).toEqual([
      ['create', 'succeeded', false, 1],
      ['complete', 'succeeded', false, 1],
      ['complete', 'succeeded', true, 1],
      ['get', 'checkout_not_found', undefined, undefined],
    ]);
    for (const line of calls) {
      expect(line).toMatchObject({ principal: 'ops-test', level: expect.stringMatching(/^(info|warn)$/) });
      expect(typeof line.duration_ms).toBe('number');
      expect(Date.parse(line.time as string)).not.toBeNaN();
    }
    expect(calls[1].key).toMatch(/^[0-9a-f]{64}$/);
    expect(calls[1].checkout).toBe(id);
    expect(server.stderr.join('')).not.toContain('tok_sandbox_ok');

    const quiet = await start(join(tempDir('once-ops-'), 'quiet.db'), { ONCE_LOG: 'warn' });
    await quiet.call('create_checkout', CART);
    await quiet.call('get_checkout', { checkout_session_id: 'cs_unknown' });
    const lines = await waitForLogs(quiet, (l) => l.event === 'tool_call', 1);
    expect(lines.filter((l) => l.event === 'tool_call').map((l) => l.operation)).toEqual(['get']);
  });
});

/** Moves every ledger record's last change back in time, as if the agent had walked away that long ago. */
async function ageRecords(db: string, byMs: number): Promise<void> {
  const store = await openSqliteStore(db);
  try {
    for await (const [key, record] of store.entries<LedgerRecord>('rec:')) {
      await store.put(key.slice(key.indexOf('rec:')), { ...record, updated_at: record.updated_at - byMs });
    }
  } finally {
    await store.close();
  }
}

type LogLine = Record<string, unknown>;

function logLines(server: RunningServer): LogLine[] {
  return server.stderr
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

/** Stderr arrives asynchronously: poll (bounded) until the lines are there. */
async function waitForLogs(server: RunningServer, match: (l: LogLine) => boolean, count: number): Promise<LogLine[]> {
  for (let i = 0; i < 200; i++) {
    const lines = logLines(server);
    if (lines.filter(match).length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return logLines(server);
}

async function waitForLog(server: RunningServer, match: (l: LogLine) => boolean): Promise<LogLine | undefined> {
  return (await waitForLogs(server, match, 1)).find(match);
}
