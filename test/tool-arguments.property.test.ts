// Property: whatever arguments an agent sends to any tool, the call is either valid or answered
// `invalid_input`, and an invalid call stores nothing and sends nothing (the whole store, which holds both the
// ledger and the sandbox merchant's state, is byte-for-byte unchanged). Driven through the real MCP server
// in process (SDK client ↔ InMemoryTransport ↔ createServer), so the SDK's own checks are in the loop too.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tools } from '../tools/index.js';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import { silentLogger } from '../src/log.js';
import { findCardNumber } from '../src/server/card-numbers.js';
import { createServer } from '../src/server/server.js';
import { openMemoryStore } from '../src/store/memory.js';
import type { Store } from '../src/store/store.js';
import { ADDRESS } from './support/server-process.js';

const HOUR = 3_600_000;
type Args = Record<string, unknown>;

let store: Store;
let client: Client;
let checkoutId: string;

beforeAll(async () => {
  store = openMemoryStore();
  const backend = new SandboxBackend({ store });
  const checkouts = new Checkouts({ ledger: new Ledger({ store, ttlMs: 23 * HOUR }), backend, windowMs: HOUR });
  const server = createServer({ checkouts, principal: 'prop', logger: silentLogger, version: 'test', tools });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: 'property', version: '1' });
  await client.connect(clientSide);
  const created = await call('create_checkout', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } });
  checkoutId = (created.structuredContent as { checkout: { id: string } }).checkout.id;
});
afterAll(async () => client.close());

async function call(name: string, args: Args): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The whole store as text: ledger records, anchor heads and the merchant's sessions, orders and charges. */
async function snapshot(): Promise<string> {
  const entries: string[] = [];
  for await (const [key, value] of store.entries<unknown>('')) entries.push(`${key}=${JSON.stringify(value)}`);
  return entries.join('\n');
}

/** The oracle: what the server must accept. */
function valid(name: string, args: Args): boolean {
  const tool = tools.find((t) => t.name === name)!;
  // The SDK's request parsing drops a top-level "__proto__" key before any tool sees the arguments.
  const { ['__proto__']: _dropped, ...seen } = Object.fromEntries(Object.entries(args));
  return findCardNumber(seen) === undefined && tool.input.safeParse(seen).success;
}

function templates(): Record<string, Args> {
  return {
    create_checkout: {
      items: [{ id: 'sku_mug', quantity: 1 }, { id: 'sku_tshirt', quantity: 2 }],
      currency: 'usd',
      buyer: { email: 'ada@example.com', first_name: 'Ada' },
      fulfillment_details: { name: 'Ada', address: { ...ADDRESS } },
      task_id: 'task-1',
    },
    update_checkout: {
      checkout_session_id: checkoutId,
      items: [{ id: 'sku_mug', quantity: 2 }],
      buyer: { email: 'ada@example.com' },
      fulfillment_details: { address: { ...ADDRESS } },
      selected_fulfillment_options: [{ type: 'shipping', option_id: 'ship_standard', item_ids: ['li_sku_mug'] }],
      discounts: { codes: ['WELCOME'] },
    },
    complete_checkout: {
      checkout_session_id: checkoutId,
      payment_data: { handler_id: 'h1', instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_decline' } } },
      buyer: { email: 'ada@example.com' },
    },
    get_checkout: { checkout_session_id: checkoutId },
    cancel_checkout: { checkout_session_id: 'cs_not_mine', reason: 'changed my mind' },
  };
}

/** Every path into a template (objects and arrays), so a mutation can land anywhere. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

const luhnPan = fc
  .array(fc.integer({ min: 0, max: 9 }), { minLength: 12, maxLength: 18 })
  .map((digits) => {
    // Append the Luhn check digit.
    let sum = 0;
    [...digits].reverse().forEach((d, i) => {
      const v = i % 2 === 0 ? d * 2 : d;
      sum += v > 9 ? v - 9 : v;
    });
    return [...digits, (10 - (sum % 10)) % 10].join('');
  });

const nastyString = fc.oneof(
  fc.constantFrom('', ' ', '   \t\n', 'x'.repeat(10_000), 'usd', 'USD', 'xyz', 'US', 'sku_mug', 'null', '-1', '1e309', '\u0000', 'é\u0301', '🛒'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  luhnPan,
  luhnPan.map((pan) => pan.replace(/(\d{4})(?=\d)/g, '$1 ')),
  luhnPan.map((pan) => `card ${pan} exp 12/29`),
);
const nastyNumber = fc.oneof(
  fc.constantFrom(0, -1, 1, 1.5, 999, 1000, 1e6, -0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300, 4111111111111111),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 120 }),
);

type Mutation = { at: number; kind: 'set'; value: unknown } | { at: number; kind: 'delete' } | { at: number; kind: 'extra'; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), kind: fc.constant('set' as const), value: anyValue }),
  fc.record({ at: fc.nat(), kind: fc.constant('delete' as const) }),
  fc.record({ at: fc.nat(), kind: fc.constant('extra' as const), key: fc.oneof(fc.constantFrom('idempotency_key', 'token', '__proto__', 'amount'), fc.string({ maxLength: 10 })), value: anyValue }),
);

function mutate(template: Args, mutations: Mutation[]): Args {
  const args = structuredClone(template);
  for (const m of mutations) {
    const all = paths(args);
    const path = all[m.at % all.length];
    if (path.length === 0) {
      if (m.kind === 'extra') Object.defineProperty(args, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      continue; // replacing or deleting the whole arguments object is the random-object property's job
    }
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], args);
    const last = path[path.length - 1];
    if (m.kind === 'set') parent[last] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else {
      const target = parent[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      }
    }
  }
  return args;
}

function errorOf(result: CallToolResult): { code: string; message: string } | undefined {
  return (result.structuredContent as { error?: { code: string; message: string } } | undefined)?.error;
}

/** The property for one call: valid, or invalid_input with the store untouched. */
async function check(name: string, args: Args, counts: { valid: number; invalid: number }): Promise<void> {
  const before = await snapshot();
  const result = await call(name, args);
  const error = errorOf(result);
  if (valid(name, args)) {
    counts.valid += 1;
    // Accepted: whatever the engine says, it is not a refusal of the arguments.
    expect(error?.message ?? '').not.toMatch(/^Invalid arguments/);
    return;
  }
  counts.invalid += 1;
  expect(result.isError).toBe(true);
  expect(error?.code).toBe('invalid_input');
  expect(await snapshot()).toBe(before);
}

describe('every tool, thousands of random and malformed arguments', () => {
  const names = tools.map((t) => t.name);

  it.each(names)('%s: mutated valid arguments are valid or invalid_input, and an invalid call stores and sends nothing', async (name) => {
    const counts = { valid: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { maxLength: 3 }), async (mutations) => {
        await check(name, mutate(templates()[name], mutations), counts);
      }),
      { numRuns: 500 },
    );
    // Both sides of the property were exercised.
    expect(counts.valid).toBeGreaterThan(20);
    expect(counts.invalid).toBeGreaterThan(100);
  });

  it.each(names)('%s: random objects are valid or invalid_input, and an invalid call stores and sends nothing', async (name) => {
    const counts = { valid: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.oneof(fc.constantFrom('items', 'currency', 'checkout_session_id', 'payment_data', 'reason', 'buyer'), fc.string({ maxLength: 8 })), anyValue, { maxKeys: 5 }), async (args) => {
        await check(name, args, counts);
      }),
      { numRuns: 200 },
    );
    expect(counts.invalid).toBeGreaterThan(50);
  });

  it('a card number anywhere in otherwise valid arguments is refused, naming the field and never the number', async () => {
    await fc.assert(
      fc.asyncProperty(luhnPan, fc.nat(), fc.constantFrom(...names), async (pan, at, name) => {
        const template = templates()[name];
        const all = paths(template);
        const stringPaths = all.filter((p) => typeof p.reduce<any>((n, k) => n[k], template) === 'string');
        const args = mutate(template, [{ at: all.indexOf(stringPaths[at % stringPaths.length]), kind: 'set', value: `ref ${pan}` }]);
        const before = await snapshot();
        const result = await call(name, args);
        expect(errorOf(result)).toMatchObject({ code: 'invalid_input' });
        expect(errorOf(result)?.message).toMatch(/looks like a card number; pass a payment token instead/);
        expect(JSON.stringify(result)).not.toContain(pan);
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
