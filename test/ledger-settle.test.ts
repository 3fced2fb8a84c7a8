// Ledger.settleFromProvider: the reconcile sweep's step. It settles ambiguous records from what the provider
// shows, and never runs a new attempt (R6, R7).
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger, type AttemptInfo, type Reconciled, type RunSpec, type StepResult } from '../src/ledger/ledger.js';
import { recordStoreKey, type LedgerRecord } from '../src/ledger/record.js';
import { openMemoryStore } from '../src/store/memory.js';

const HOUR = 3_600_000;

function setup() {
  const clock = new ManualClock();
  const store = openMemoryStore();
  const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR, leaseMs: 30_000 });
  return { clock, store, ledger };
}

function spec(execute: RunSpec<string>['execute'], reconcile: RunSpec<string>['reconcile'] = async () => ({ kind: 'resend' })): RunSpec<string> {
  return { key: 'k-1', principal: 'local', operation: 'complete', backend: 'test', anchor: 'cs_1', fingerprint: 'f-1', summary: {}, execute, reconcile };
}

const lost: StepResult<string> = { kind: 'unknown', reason: 'response lost' };

/** Leaves record k-1 unknown after one send whose answer was lost. */
async function unknownRecord(ledger: Ledger): Promise<AttemptInfo> {
  let sent: AttemptInfo | undefined;
  const result = await ledger.run(spec(async (attempt) => ((sent = attempt), lost)));
  expect(result.outcome).toBe('unknown');
  return sent!;
}

describe('R6: the reconcile sweep settles from the provider and never sends', () => {
  it('an unknown record the provider shows succeeded is settled succeeded with the same attempt and key', async () => {
    const { ledger } = setup();
    const sent = await unknownRecord(ledger);
    const asked: AttemptInfo[] = [];
    const settlement = await ledger.settleFromProvider<string>('k-1', async (attempt) => {
      asked.push(attempt);
      return { kind: 'settled', result: { kind: 'succeeded', value: 'order_1' } };
    });
    expect(settlement.kind).toBe('settled');
    expect(asked[0]).toMatchObject({ number: 1, outboundKey: sent.outboundKey });
    const record = (await ledger.read<string>('k-1'))!;
    expect(record.state).toEqual({ status: 'succeeded', result: 'order_1' });
    expect(record.attempt).toBe(1);
    expect(record.outbound_key).toBe(sent.outboundKey);
    expect(record.timeline.map((e) => e.event)).toEqual(['claimed', 'sent', 'unknown', 'taken_over', 'reconciled', 'succeeded']);
    // A later call replays the settled outcome and sends nothing.
    const again = await ledger.run(spec(async () => { throw new Error('must not send'); }));
    expect(again).toMatchObject({ outcome: 'succeeded', value: 'order_1', replayed: true });
  });

  it('a provider decision of failure is recorded with its code', async () => {
    const { ledger } = setup();
    await unknownRecord(ledger);
    await ledger.settleFromProvider<string>('k-1', async () => ({
      kind: 'settled',
      result: { kind: 'failed', code: 'checkout_canceled', message: 'canceled first' },
    }));
    expect((await ledger.read('k-1'))!.state).toMatchObject({ status: 'failed', code: 'checkout_canceled' });
  });

  it('"resend" leaves the record unknown with the same outbound key, so the agent\'s next call resends it', async () => {
    const { ledger } = setup();
    const sent = await unknownRecord(ledger);
    const settlement = await ledger.settleFromProvider<string>('k-1', async () => ({ kind: 'resend' }));
    expect(settlement).toMatchObject({ kind: 'unresolved', resend: true });
    const record = (await ledger.read('k-1'))!;
    expect(record.state.status).toBe('unknown');
    expect(record.outbound_key).toBe(sent.outboundKey);
    const resent: AttemptInfo[] = [];
    const next = await ledger.run(spec(async (attempt) => (resent.push(attempt), { kind: 'succeeded', value: 'order_1' })));
    expect(next.outcome).toBe('succeeded');
    expect(resent).toEqual([expect.objectContaining({ number: 1, outboundKey: sent.outboundKey })]);
  });

  it('an unreadable provider (or a throwing read) leaves the record unknown', async () => {
    const { ledger } = setup();
    await unknownRecord(ledger);
    const a = await ledger.settleFromProvider<string>('k-1', async () => ({ kind: 'unknown', reason: 'merchant 503' }));
    expect(a).toMatchObject({ kind: 'unresolved', resend: false, reason: 'reconcile: merchant 503' });
    const b = await ledger.settleFromProvider<string>('k-1', async () => { throw new Error('socket hang up'); });
    expect(b).toMatchObject({ kind: 'unresolved', reason: 'reconcile: socket hang up' });
    expect((await ledger.read('k-1'))!.state.status).toBe('unknown');
  });

  it('settled and absent records are skipped without calling the provider', async () => {
    const { ledger } = setup();
    await ledger.run(spec(async () => ({ kind: 'succeeded', value: 'order_1' })));
    const never = async (): Promise<Reconciled<string>> => { throw new Error('must not read'); };
    expect(await ledger.settleFromProvider('k-1', never)).toMatchObject({ kind: 'skipped', reason: 'settled' });
    expect(await ledger.settleFromProvider('nope', never)).toMatchObject({ kind: 'skipped', reason: 'absent' });
  });
});

describe('R7: the sweep respects live owners and fences', () => {
  /** A pending record left by an owner on another host (so only lease expiry can tell it is gone). */
  async function abandonedPending(store: ReturnType<typeof openMemoryStore>, clock: ManualClock): Promise<void> {
    const now = clock.now();
    const record: LedgerRecord<string> = {
      v: 1, key: 'k-1', principal: 'local', operation: 'complete', backend: 'test', anchor: 'cs_1', fingerprint: 'f-1',
      summary: {}, generation: 1, generation_started_at: now, attempt: 1, fence: 1, outbound_key: 'oc_abc',
      first_seen_at: now, updated_at: now, expires_at: now + 23 * HOUR,
      state: { status: 'pending', owner: 'elsewhere.example:4242:deadbeef', lease_until: now + 30_000 },
      timeline: [{ at: now, event: 'claimed', attempt: 1, outbound_key: 'oc_abc', fence: 1 }],
    };
    await store.put(recordStoreKey('k-1'), record);
  }

  it('a pending record under a live lease is left alone', async () => {
    const { ledger, store, clock } = setup();
    await abandonedPending(store, clock);
    const never = async (): Promise<Reconciled<string>> => { throw new Error('must not read'); };
    expect(await ledger.settleFromProvider('k-1', never)).toMatchObject({ kind: 'skipped', reason: 'running' });
  });

  it('a pending record whose lease expired is taken over with a new fence and settled', async () => {
    const { ledger, store, clock } = setup();
    await abandonedPending(store, clock);
    clock.advance(31_000);
    const settlement = await ledger.settleFromProvider<string>('k-1', async (attempt) => {
      expect(attempt.outboundKey).toBe('oc_abc');
      return { kind: 'settled', result: { kind: 'succeeded', value: 'order_1' } };
    });
    expect(settlement.kind).toBe('settled');
    const record = (await ledger.read('k-1'))!;
    expect(record.fence).toBe(2);
    expect(record.timeline.find((e) => e.event === 'taken_over')?.detail).toMatch(/lease of elsewhere\.example:4242:deadbeef expired/);
  });

  it('when a live call takes the record over during the read, the sweep does not overwrite its outcome', async () => {
    const { ledger, clock } = setup();
    await unknownRecord(ledger);
    const settlement = await ledger.settleFromProvider<string>('k-1', async () => {
      // Meanwhile this process stalls (its clock, and so its renewals, stand still), and an agent's retry in
      // another process, 31 s later, finds our lease lapsed, takes over and settles.
      const other = new Ledger({ store: ledger.store, clock: new ManualClock(clock.now() + 31_000), ttlMs: 23 * HOUR });
      const retry = await other.run(spec(async () => ({ kind: 'succeeded', value: 'order_from_retry' }), async () => ({ kind: 'resend' })));
      expect(retry.outcome).toBe('succeeded');
      return { kind: 'unknown', reason: 'merchant 503' };
    });
    expect(settlement).toMatchObject({ kind: 'skipped', reason: 'settled' });
    expect((await ledger.read('k-1'))!.state).toEqual({ status: 'succeeded', result: 'order_from_retry' });
  });
});
