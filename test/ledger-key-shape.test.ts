// Issue 14, R1: where the provider's spec says UUID (UCP's idempotency-key), the ledger writes its derived key
// as a name-based UUID: still derived from the record and the attempt, never random, the same on every resend.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/ledger/clock.js';
import { KEY_NAMESPACE, nameBasedUuid, outboundKey } from '../src/ledger/keys.js';
import { Ledger, type AttemptInfo, type StepResult } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('R1: UUID-shaped outbound keys (issue 14)', () => {
  it('R1: nameBasedUuid is RFC 9562 version 5 (the published test vector) and our namespace is itself derived', () => {
    // uuid5(NAMESPACE_DNS, "python.org"), as every UUID library computes it.
    expect(nameBasedUuid('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    expect(nameBasedUuid('once-checkout', '6ba7b811-9dad-11d1-80b4-00c04fd430c8')).toBe(KEY_NAMESPACE);
  });

  it('R1: a UUID key is derived from record, generation and attempt: stable, distinct per attempt, 36 characters', () => {
    const first = outboundKey('rec', 1000, 1, 'uuid');
    expect(first).toMatch(UUID_V5);
    expect(first).toHaveLength(36);
    expect(outboundKey('rec', 1000, 1, 'uuid')).toBe(first);
    expect(outboundKey('rec', 1000, 2, 'uuid')).not.toBe(first);
    expect(outboundKey('rec', 2000, 1, 'uuid')).not.toBe(first);
    expect(outboundKey('other', 1000, 1, 'uuid')).not.toBe(first);
    // The default shape is unchanged.
    expect(outboundKey('rec', 1000, 1)).toMatch(/^oc_[0-9a-f]{32}$/);
  });

  it('R1/R6: a ledger with keyShape uuid resends an unknown attempt under the same UUID, and a new attempt gets a new one', async () => {
    const ledger = new Ledger({ store: openMemoryStore(), clock: new ManualClock(), ttlMs: 3_600_000, keyShape: 'uuid' });
    const sent: AttemptInfo[] = [];
    const results: Array<StepResult<string>> = [
      { kind: 'unknown', reason: 'response lost' },
      { kind: 'failed', code: 'payment_declined', message: 'declined' },
      { kind: 'succeeded', value: 'order' },
    ];
    const spec = {
      key: 'k-uuid',
      principal: 'p',
      operation: 'complete',
      backend: 'ucp',
      fingerprint: 'f',
      summary: {},
      execute: async (attempt: AttemptInfo) => {
        sent.push(attempt);
        return results.shift()!;
      },
      reconcile: async () => ({ kind: 'resend' as const }),
    };
    await ledger.run(spec);
    await ledger.run(spec);
    await ledger.run(spec);
    expect(sent.map((a) => a.number)).toEqual([1, 1, 2]);
    for (const attempt of sent) expect(attempt.outboundKey).toMatch(UUID_V5);
    expect(sent[1].outboundKey).toBe(sent[0].outboundKey);
    expect(sent[2].outboundKey).not.toBe(sent[0].outboundKey);
  });
});
