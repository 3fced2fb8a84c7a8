// R10: the ledger writes its records' text itself (src/ledger/record-json.ts); what an operator reads back must be
// exactly the record, whatever it holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json } from '../src/ledger/canonical.js';
import type { LedgerRecord, TimelineEvent } from '../src/ledger/record.js';
import { recordJson } from '../src/ledger/record-json.js';
import { openMemoryStore } from '../src/store/memory.js';

const text = fc.string({ unit: 'binary', maxLength: 40 });
const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
const time = fc.integer({ min: 0, max: 4_102_444_800_000 });
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const event: fc.Arbitrary<TimelineEvent> = fc.record(
  {
    at: time,
    event: fc.constantFrom('claimed', 'taken_over', 'sent', 'resent', 'reconciled', 'succeeded', 'failed', 'unknown', 'new_generation'),
    attempt: fc.integer({ min: 1, max: 5 }),
    outbound_key: text,
    fence: fc.integer({ min: 1, max: 50 }),
    code: text,
    detail: text,
    provider_request_id: text,
  },
  { requiredKeys: ['at', 'event', 'attempt'] },
);

const state = fc.oneof(
  fc.record({ status: fc.constant('pending' as const), owner: text, lease_until: time }),
  fc.record({ status: fc.constant('succeeded' as const), result: json }),
  fc.record({ status: fc.constant('failed' as const), code: text, message: text, result: optional(json) }, { requiredKeys: ['status', 'code', 'message'] }),
  fc.record({ status: fc.constant('unknown' as const), reason: text }),
);

const record: fc.Arbitrary<LedgerRecord> = fc.record(
  {
    v: fc.constant(1 as const),
    key: text,
    principal: text,
    operation: text,
    backend: text,
    anchor: text,
    anchor_key: text,
    fingerprint: text,
    attempt_fingerprint: text,
    summary: json,
    generation: fc.integer({ min: 1, max: 9 }),
    generation_started_at: time,
    attempt: fc.integer({ min: 1, max: 5 }),
    fence: fc.integer({ min: 1, max: 50 }),
    outbound_key: text,
    first_seen_at: time,
    updated_at: time,
    settled_at: time,
    expires_at: time,
    state,
    timeline: fc.array(event, { maxLength: 6 }),
  },
  {
    requiredKeys: [
      'v', 'key', 'principal', 'operation', 'backend', 'fingerprint', 'summary', 'generation', 'generation_started_at',
      'attempt', 'fence', 'outbound_key', 'first_seen_at', 'updated_at', 'expires_at', 'state', 'timeline',
    ],
  },
) as fc.Arbitrary<LedgerRecord>;

describe('R10: the record text the ledger writes', () => {
  it('R10: decodes to the same record JSON.stringify would have written, for any record', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(JSON.parse(recordJson(r))).toEqual(JSON.parse(JSON.stringify(r)));
      }),
      { numRuns: 500 },
    );
  });

  it('R10: a store given that text stores it, and reads back the record', async () => {
    const store = openMemoryStore();
    const sample = fc.sample(record, 20);
    for (const [i, r] of sample.entries()) {
      const claimed = await store.claim(`k${i}`, r, recordJson(r));
      expect(claimed.claimed).toBe(true);
      expect((await store.get(`k${i}`))?.value).toEqual(JSON.parse(JSON.stringify(r)));
    }
  });
});
