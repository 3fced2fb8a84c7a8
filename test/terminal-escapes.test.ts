// Issue "The merchant is untrusted input", item 7: text from outside (a merchant's checkout status, codes,
// messages, provider ids, details, principal names) reaches the operator's terminal through `ledger list`
// and `ledger show`. A control byte in it must be shown escaped (\x1b, \u009b), never obeyed.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../src/ledger/record.js';
import { printable, terminalJson } from '../src/operator/printable.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { runCli } from './support/cli-process.js';
import { ADDRESS, startServer, structured, tempDir } from './support/server-process.js';

const HOSTILE = '\x1b]0;pwned\x07\x1b[2J';
const C1 = '\u009b2J\u202eevil';
/** Any raw control byte a terminal could act on (newline excepted: the tables' own line breaks). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('printable (item 7)', () => {
  it('shows C0, DEL, C1 and bidi controls as escapes and leaves ordinary text alone', () => {
    expect(printable(HOSTILE)).toBe('\\x1b]0;pwned\\x07\\x1b[2J');
    expect(printable(C1)).toBe('\\u009b2J\\u202eevil');
    expect(printable('a\nb\tc\x7f')).toBe('a\\x0ab\\x09c\\x7f');
    expect(printable('cs_123 completed, 3545 usd — Zoë')).toBe('cs_123 completed, 3545 usd — Zoë');
  });

  it('terminalJson escapes what JSON.stringify leaves raw (C1, bidi) and still parses to the same value', () => {
    const value = { status: HOSTILE + C1 };
    expect(JSON.stringify(value)).toMatch(RAW_CONTROL); // the old --json output carried U+009B raw
    const text = terminalJson(value);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('ledger list/show on a ledger holding a hostile merchant status (item 7)', () => {
  const db = join(tempDir('once-escapes-'), 'ledger.db');
  let checkoutId = '';
  let key = '';

  beforeAll(async () => {
    const server = await startServer({ ONCE_STORE: `sqlite://${db}` });
    try {
      const created = structured(
        await server.call('create_checkout', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } }),
      );
      checkoutId = created.checkout!.id;
      key = created.idempotency!.key;
    } finally {
      await server.close();
    }
    // What a hostile merchant could have answered, as the ledger would have recorded it.
    const store = await openSqliteStore(db);
    try {
      // The checkout's head, wherever the store keys it (found by its checkout id).
      type Head = { anchor: string; checkout: Record<string, unknown> };
      let headKey = '';
      for await (const [k, value] of store.entries<Head>('anchor:')) if (value.anchor === checkoutId) headKey = k;
      expect(headKey).not.toBe('');
      const head = (await store.get<Head>(headKey))!.value;
      await store.put(headKey, { ...head, checkout: { ...head.checkout, status: HOSTILE + C1, order: { id: `ord_${HOSTILE}` } } });
      const recordKey = `rec:${key}`;
      const record = (await store.get<LedgerRecord>(recordKey))!.value;
      const result = record.state.status === 'succeeded' ? (record.state.result as Record<string, unknown>) : {};
      await store.put(recordKey, {
        ...record,
        state: { status: 'succeeded', result: { ...result, status: HOSTILE } },
        timeline: [
          ...record.timeline,
          { at: record.updated_at, event: 'failed', attempt: 1, code: `code${HOSTILE}`, detail: `detail${HOSTILE}${C1}`, provider_request_id: `req${C1}` },
        ],
      } satisfies LedgerRecord);
      const failedKey = `rec:${'f'.repeat(64)}`;
      await store.put(failedKey, {
        ...record,
        key: 'f'.repeat(64),
        operation: 'complete',
        principal: `p${C1}`,
        anchor: checkoutId,
        state: { status: 'failed', code: `declined${HOSTILE}`, message: `message${HOSTILE}` },
      } satisfies LedgerRecord);
    } finally {
      await store.close();
    }
  }, 60_000);

  const cli = (...args: string[]) => runCli(args, { ONCE_STORE: `sqlite://${db}` });

  it.each([
    ['ledger list', ['ledger', 'list']],
    ['ledger show CHECKOUT', ['ledger', 'show', '<checkout>']],
    ['ledger show KEY', ['ledger', 'show', '<key>']],
    ['ledger list --json', ['ledger', 'list', '--json']],
    ['ledger show CHECKOUT --json', ['ledger', 'show', '<checkout>', '--json']],
    ['ledger show KEY --json', ['ledger', 'show', '<key>', '--json']],
  ])('%s prints no raw control byte, and shows the escapes', async (_label, args) => {
    const run = await cli(...args.map((a) => (a === '<checkout>' ? checkoutId : a === '<key>' ? key : a)));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).not.toContain('\x1b');
    if (args.includes('--json')) {
      expect(run.stdout).toContain('\\u001b]0;pwned\\u0007'); // JSON's own escape; parses back to the text
      expect(() => JSON.parse(run.stdout)).not.toThrow();
    } else {
      expect(run.stdout).toContain('\\x1b]0;pwned\\x07\\x1b[2J');
    }
  });

  it('the checkout line of ledger show names the escaped status, C1 included', async () => {
    const run = await cli('ledger', 'show', checkoutId);
    expect(run.stdout.split('\n')[0]).toContain(': \\x1b]0;pwned\\x07\\x1b[2J\\u009b2J\\u202eevil, order ord_\\x1b]0;pwned');
  });
});
