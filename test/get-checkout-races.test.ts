// get_checkout's head writes racing other calls, and the checkout:// history of a checkout whose create key later
// made another (R10, R11, R13). The engine runs against the in-process sandbox merchant.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { createServer } from '../src/server/server.js';
import { tools } from '../tools/index.js';
import { cart, created, engine, HOUR, ok, payWith, slowNextRead } from './support/checkout-engine.js';

const payA = payWith('card_a');


/** An MCP client of `principal` on a server over the engine's checkouts, with the checkout:// resources. */
async function resourceClient(e: ReturnType<typeof engine>, principal: string) {
  const server = createServer({ checkouts: e.checkouts, principal, logger: silentLogger, version: 'test', tools, resources: { ledger: e.ledger, backend: e.backend.name } });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'review', version: '1' });
  await client.connect(clientSide);
  return client;
}

describe('get_checkout: its head writes under interleavings', () => {
  it('R13: a get_checkout whose merchant read is older than a complete that ran meanwhile does not undo the completion: the repeated complete still returns the order', async () => {
    const { backend, checkouts, charges, clock } = engine();
    const { id } = await created(checkouts);
    const slow = slowNextRead(backend);
    const reading = checkouts.get('alice', id); // reads the merchant: ready_for_payment
    await slow.hasRead;
    const paid = ok(await checkouts.complete('alice', id, payA)); // completes and charges meanwhile
    expect(paid.status).toBe('completed');
    clock.advance(200); // the slow answer comes back a moment later
    slow.answer();
    await reading; // its (concurrent) answer may be the older state; the head must not go back to it
    // The agent repeats its complete: R5/R13, the existing order, nothing sent.
    const again = ok(await checkouts.complete('alice', id, payA));
    expect(again.status).toBe('completed');
    expect(again.order?.id).toBe(paid.order?.id);
    expect(await charges()).toHaveLength(1);
  });

  it('R11: a get_checkout whose merchant read is older than an update that ran meanwhile does not make the replay of that update answer the older cart', async () => {
    const { backend, checkouts, clock } = engine();
    const { id } = await created(checkouts); // 1 mug
    const slow = slowNextRead(backend);
    const reading = checkouts.get('alice', id); // reads the merchant: 1 mug
    await slow.hasRead;
    const three = { items: [{ id: 'sku_mug', quantity: 3 }] };
    const updated = ok(await checkouts.update('alice', id, three)); // 3 mugs at the merchant
    expect(updated.line_items[0]!.quantity).toBe(3);
    clock.advance(200);
    slow.answer();
    await reading;
    // The agent repeats the update: a replay returns the current state (3 mugs, as the merchant holds), never older.
    const again = ok(await checkouts.update('alice', id, three));
    expect(again.line_items[0]!.quantity).toBe(3);
    expect(ok(await checkouts.get('alice', id)).line_items[0]!.quantity).toBe(3);
  });
});

describe('checkout:// resources', () => {
  it('R10: the resource of a checkout whose create key later made another checkout (the same cart after the window W) shows its own create, not the create of the other checkout', async () => {
    const e = engine();
    const first = ok(await e.checkouts.create('alice', cart));
    e.clock.advance(2 * HOUR); // past W: the same cart is a new intent, a new generation of the same create record (R3)
    const second = ok(await e.checkouts.create('alice', cart));
    expect(second.id).not.toBe(first.id);
    const client = await resourceClient(e, 'alice');
    const read = await client.readResource({ uri: `checkout://${first.id}` });
    const body = JSON.parse((read.contents[0] as { text: string }).text) as { records: Array<{ operation: string; anchor: string | null; result: string }> };
    const create = body.records.find((r) => r.operation === 'create');
    // Its history explains this checkout (R10): a create record it lists is the one that made it.
    if (create) expect(create.anchor).toBe(first.id);
    expect(JSON.stringify(body)).not.toContain(second.id);
  });
});
