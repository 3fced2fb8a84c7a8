// The ledger's rules, one by one, on the memory store with a controlled clock.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger, SettleFailedError, type AttemptInfo, type Reconciled, type RunSpec, type StepResult } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';
import { StoreUnavailableError, type Store } from '../src/store/store.js';
import { recordStoreKey, type LedgerRecord } from '../src/ledger/record.js';
import { wrapStore } from './support/checkout-engine.js';

const HOUR = 3_600_000;

function setup(options: Partial<ConstructorParameters<typeof Ledger>[0]> = {}) {
  const clock = new ManualClock();
  const store = openMemoryStore();
  const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR, ...options });
  return { clock, store, ledger };
}

/** A backend call we script: each call takes the next result; it records the keys it was sent. */
function scripted(results: Array<StepResult<string>>, reconciled: Array<Reconciled<string>> = []) {
  const sent: AttemptInfo[] = [];
  const reconciledWith: AttemptInfo[] = [];
  return {
    sent,
    reconciledWith,
    spec(overrides: Partial<RunSpec<string>> = {}): RunSpec<string> {
      return {
        key: 'k-1',
        principal: 'local',
        operation: 'complete',
        backend: 'test',
        fingerprint: 'f-1',
        summary: {},
        async execute(attempt) {
          sent.push(attempt);
          const next = results.shift();
          if (!next) throw new Error('no scripted result left');
          return next;
        },
        async reconcile(attempt) {
          reconciledWith.push(attempt);
          return reconciled.shift() ?? { kind: 'resend' };
        },
        ...overrides,
      };
    },
  };
}

const ok = (value = 'order_1'): StepResult<string> => ({ kind: 'succeeded', value });

/** A store whose replace number n (from 1) writes and then throws, as a lost reply would; `down` fails reads too. */
function lossyReplace(inner: Store, lose: (n: number) => boolean, down: () => boolean = () => false): Store {
  let n = 0;
  return wrapStore(inner, {
    get: (key) => (down() ? Promise.reject(new StoreUnavailableError('store down')) : inner.get(key)),
    replace: async (key, expected, next) => {
      n += 1;
      const written = await inner.replace(key, expected, next);
      if (lose(n)) throw new StoreUnavailableError('the reply was lost');
      return written;
    },
  });
}

describe('R1/R11: a settled outcome is replayed, honestly', () => {
  it('R1: the outbound key is derived, at most 36 characters, and the same record replays without sending', async () => {
    const { ledger, clock } = setup();
    const call = scripted([ok()]);
    const first = await ledger.run(call.spec());
    clock.advance(60_000);
    const second = await ledger.run(call.spec());
    expect(call.sent).toHaveLength(1);
    expect(call.sent[0].outboundKey.length).toBeLessThanOrEqual(36);
    expect(call.sent[0].outboundKey).toMatch(/^oc_[0-9a-f]{32}$/);
    expect(first).toMatchObject({ outcome: 'succeeded', value: 'order_1', replayed: false });
    expect(second).toMatchObject({ outcome: 'succeeded', value: 'order_1', replayed: true });
    expect(second.record.first_seen_at).toBe(first.record.first_seen_at);
  });
});

describe('R4: a different intent under the same key is a conflict', () => {
  it('refuses with intent_conflict and sends nothing', async () => {
    const { ledger } = setup();
    const call = scripted([ok()]);
    await ledger.run(call.spec());
    await expect(ledger.run(call.spec({ fingerprint: 'f-other' }))).rejects.toMatchObject({ code: 'intent_conflict' });
    expect(call.sent).toHaveLength(1);
  });
});

describe('R6: genuine failure re-executes; ambiguity never does', () => {
  it('R6: a terminal failure re-executes as attempt 2 with a new outbound key', async () => {
    const { ledger } = setup();
    const call = scripted([{ kind: 'failed', code: 'payment_declined', message: 'declined' }, ok()]);
    const first = await ledger.run(call.spec());
    const second = await ledger.run(call.spec());
    expect(first).toMatchObject({ outcome: 'failed', code: 'payment_declined', replayed: false });
    expect(second).toMatchObject({ outcome: 'succeeded', replayed: false });
    expect(call.sent.map((a) => a.number)).toEqual([1, 2]);
    expect(call.sent[0].outboundKey).not.toBe(call.sent[1].outboundKey);
  });

  it('R6: attempts are capped so a looping agent cannot card-test', async () => {
    const { ledger } = setup({ maxAttempts: 3 });
    const declined: StepResult<string> = { kind: 'failed', code: 'payment_declined', message: 'declined' };
    const call = scripted([declined, declined, declined, ok()]);
    for (let i = 0; i < 3; i++) await ledger.run(call.spec());
    await expect(ledger.run(call.spec())).rejects.toMatchObject({ code: 'attempts_exhausted' });
    expect(call.sent).toHaveLength(3);
  });

  it('R6: an unknown attempt is reconciled first, then resent with its old key', async () => {
    const { ledger } = setup();
    const call = scripted([{ kind: 'unknown', reason: 'socket hang up' }, ok()], [{ kind: 'resend' }]);
    const first = await ledger.run(call.spec());
    expect(first.outcome).toBe('unknown');
    const second = await ledger.run(call.spec());
    expect(second).toMatchObject({ outcome: 'succeeded', replayed: false });
    expect(call.reconciledWith).toHaveLength(1);
    expect(call.sent.map((a) => [a.number, a.outboundKey])).toEqual([
      [1, call.sent[0].outboundKey],
      [1, call.sent[0].outboundKey],
    ]);
    expect(second.record.timeline.map((e) => e.event)).toEqual([
      'claimed',
      'sent',
      'unknown',
      'taken_over',
      'resent',
      'succeeded',
    ]);
  });

  it('R6: when the provider shows success, the unknown attempt settles without any resend', async () => {
    const { ledger } = setup();
    const call = scripted(
      [{ kind: 'unknown', reason: 'response lost' }],
      [{ kind: 'settled', result: { kind: 'succeeded', value: 'order_1' } }],
    );
    await ledger.run(call.spec());
    const second = await ledger.run(call.spec());
    expect(second).toMatchObject({ outcome: 'succeeded', value: 'order_1' });
    expect(call.sent).toHaveLength(1);
  });

  it('R6: a thrown error is an unknown outcome, not a failure', async () => {
    const { ledger } = setup();
    const result = await ledger.run(
      scripted([]).spec({
        execute: async () => {
          throw new Error('ECONNRESET');
        },
      }),
    );
    expect(result).toMatchObject({ outcome: 'unknown', message: 'ECONNRESET' });
    expect(result.record.state.status).toBe('unknown');
  });
});

describe('R7: one runner at a time', () => {
  it('R7: 100 concurrent duplicates run the call once and all get its outcome', async () => {
    const { ledger } = setup();
    let executions = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const spec = scripted([]).spec({
      execute: async () => {
        executions += 1;
        await gate;
        return ok('order_once');
      },
    });
    const all = Promise.all(Array.from({ length: 100 }, () => ledger.run(spec)));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const results = await all;
    expect(executions).toBe(1);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(['order_once']));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  });

  it('R7: a duplicate of a failing attempt gets that failure, not a second attempt', async () => {
    const { ledger } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let executions = 0;
    const spec = scripted([]).spec({
      execute: async () => {
        executions += 1;
        await gate;
        return { kind: 'failed', code: 'payment_declined', message: 'declined' };
      },
    });
    const both = Promise.all([ledger.run(spec), ledger.run(spec)]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const [a, b] = await both;
    expect(executions).toBe(1);
    expect([a.code, b.code]).toEqual(['payment_declined', 'payment_declined']);
  });

  it('R7: past the bounded wait a duplicate answers pending and never runs a second attempt', async () => {
    const { ledger } = setup({ waitMs: 10_000 });
    const never = new Promise<StepResult<string>>(() => {});
    const waits: number[] = [];
    const first = scripted([]).spec({ execute: () => never });
    void ledger.run(first);
    await new Promise((resolve) => setImmediate(resolve));
    let secondRan = false;
    const duplicate = await ledger.run(
      scripted([]).spec({
        execute: async () => {
          secondRan = true;
          return ok();
        },
        onWait: (ms) => waits.push(ms),
      }),
    );
    expect(duplicate.outcome).toBe('pending');
    expect(secondRan).toBe(false);
    expect(waits.length).toBeGreaterThan(0);
  });

  it('R7: an abandoned pending record (lease expired) is reconciled by the next caller, not rerun blindly', async () => {
    const { ledger, clock, store } = setup({ leaseMs: 30_000 });
    // A crashed owner left this behind.
    const abandoned = await store.claim<LedgerRecord<string>>(recordStoreKey('k-1'), {
      v: 1, key: 'k-1', principal: 'local', operation: 'complete', backend: 'test', fingerprint: 'f-1',
      summary: {}, generation: 1, generation_started_at: clock.now(), attempt: 1, fence: 1,
      outbound_key: 'oc_abandoned', first_seen_at: clock.now(), updated_at: clock.now(),
      expires_at: clock.now() + HOUR, state: { status: 'pending', owner: 'dead:1', lease_until: clock.now() + 30_000 },
      timeline: [],
    });
    expect(abandoned.claimed).toBe(true);
    clock.advance(30_001);
    const call = scripted([], [{ kind: 'settled', result: { kind: 'succeeded', value: 'order_1' } }]);
    const result = await ledger.run(call.spec());
    expect(result).toMatchObject({ outcome: 'succeeded', value: 'order_1' });
    expect(call.reconciledWith.map((a) => a.outboundKey)).toEqual(['oc_abandoned']);
    expect(call.sent).toHaveLength(0);
    expect(result.record.fence).toBe(2);
  });

  it('R7: a record a newer version claimed keeps the fields this version does not know when this one takes it over and settles it', async () => {
    const { ledger, clock, store } = setup({ leaseMs: 30_000 });
    const fromNewer = {
      v: 1, key: 'k-1', principal: 'local', operation: 'complete', backend: 'test', fingerprint: 'f-1',
      summary: {}, generation: 1, generation_started_at: clock.now(), attempt: 1, fence: 1,
      outbound_key: 'oc_newer', first_seen_at: clock.now(), updated_at: clock.now(),
      expires_at: clock.now() + HOUR, state: { status: 'pending', owner: 'dead:1', lease_until: clock.now() + 30_000 },
      timeline: [], merchant_trace: { id: 'mt_1' },
    } as LedgerRecord<string> & { merchant_trace: { id: string } };
    expect((await store.claim<LedgerRecord<string>>(recordStoreKey('k-1'), fromNewer)).claimed).toBe(true);
    clock.advance(30_001);
    const call = scripted([], [{ kind: 'settled', result: { kind: 'succeeded', value: 'order_1' } }]);
    expect(await ledger.run(call.spec())).toMatchObject({ outcome: 'succeeded', value: 'order_1' });
    const stored = await store.get<LedgerRecord<string> & { merchant_trace?: unknown }>(recordStoreKey('k-1'));
    expect(stored?.value.state.status).toBe('succeeded');
    expect(stored?.value.merchant_trace).toEqual({ id: 'mt_1' });
  });

  it('R7: a renewal that landed but whose reply was lost does not cost the lease: a succeeded send is recorded succeeded', async () => {
    const clock = new ManualClock();
    const store = lossyReplace(openMemoryStore(), (n) => n === 1); // the first renewal writes, then its reply is lost
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR, leaseMs: 30_000 });
    const result = await ledger.run({
      ...scripted([]).spec(),
      execute: async () => {
        for (let tick = 0; tick < 3; tick++) {
          await clock.sleep(10_001); // past a renewal period each time
          await new Promise((resolve) => setImmediate(resolve));
        }
        return ok();
      },
    });
    expect(result.outcome).toBe('succeeded');
    expect((await ledger.read<string>('k-1'))?.state.status).toBe('succeeded');
  });

  it('R13: a settle that landed but whose reply was lost, with the store then down, is SettleFailedError ("may have acted"), never "nothing was sent"', async () => {
    const clock = new ManualClock();
    let down = false;
    const store = lossyReplace(openMemoryStore(), (n) => (n === 1 ? (down = true) : false), () => down);
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR, leaseMs: 30_000 });
    const error = await ledger.run(scripted([ok()]).spec()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SettleFailedError);
  });

  it('R7: a call that stalled past its lease before sending sends nothing (another may have taken over and superseded it)', async () => {
    const clock = new ManualClock();
    const inner = openMemoryStore();
    let stalled = false;
    const store = wrapStore(inner, { replace: (k, e, n) => (stalled ? Promise.reject(new StoreUnavailableError('stalled')) : inner.replace(k, e, n)) });
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR, leaseMs: 30_000 });
    const call = scripted([{ kind: 'failed', code: 'card_declined', message: 'declined' }, ok()]);
    expect((await ledger.run(call.spec())).outcome).toBe('failed');
    const result = await ledger.run(
      call.spec({
        // Attempt 2 checks with the provider first; the process stalls there past its lease (no renewal lands).
        precheck: async () => {
          stalled = true;
          clock.advance(31_000);
          stalled = false;
          return undefined;
        },
      }),
    );
    expect(call.sent).toHaveLength(1); // only attempt 1 went out
    expect(result.outcome).toBe('unknown');
  });

  it('R13: claims this process gave up settling are forgotten once their lease has run out (the mark is not kept for good)', async () => {
    const clock = new ManualClock();
    const inner = openMemoryStore();
    let failing = false;
    const store = wrapStore(inner, { replace: (k, e, n) => (failing ? Promise.reject(new StoreUnavailableError('down')) : inner.replace(k, e, n)) });
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR, leaseMs: 30_000 });
    for (let i = 0; i < 3; i++) {
      const spec = { ...scripted([]).spec({ key: `k-${i}` }), execute: async () => ((failing = true), ok()) };
      await expect(ledger.run(spec)).rejects.toBeInstanceOf(SettleFailedError);
      failing = false;
      clock.advance(31_000);
    }
    expect((ledger as unknown as { abandoned: Map<string, number> }).abandoned.size).toBe(1);
  });

  it('R7: the lease is renewed on the ledger\u2019s clock: a call running past its lease keeps it, and a duplicate waits instead of taking over', async () => {
    const { ledger, clock } = setup({ leaseMs: 30_000, waitMs: 2_000 });
    let finish: ((r: StepResult<string>) => void) | undefined;
    let executions = 0;
    const first = ledger.run(
      scripted([]).spec({
        execute: async () => {
          executions += 1;
          for (let i = 0; i < 9; i++) await clock.sleep(5_000); // 45 s of the ledger's time: past the 30 s lease
          return new Promise<StepResult<string>>((resolve) => (finish = resolve));
        },
      }),
    );
    while (!finish) await new Promise((resolve) => setImmediate(resolve));
    const running = (await ledger.read<string>('k-1'))!.state;
    expect(running.status).toBe('pending');
    expect(running.status === 'pending' && running.lease_until).toBeGreaterThan(clock.now());
    const duplicate = await ledger.run(scripted([ok('cs_2')], [{ kind: 'resend' }]).spec());
    expect(duplicate.outcome).toBe('pending');
    finish(ok('cs_1'));
    expect((await first).value).toBe('cs_1');
    expect(executions).toBe(1);
  });

  it('R7: a stale owner whose lease was taken over cannot overwrite the newer outcome (fencing)', async () => {
    const { ledger, clock, store } = setup({ leaseMs: 1_000 });
    let releaseSlow!: (r: StepResult<string>) => void;
    const slow = ledger.run(
      scripted([]).spec({ execute: () => new Promise<StepResult<string>>((resolve) => (releaseSlow = resolve)) }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    // The slow owner's process stalls (its clock, and so its renewals, stand still) while another process's clock
    // runs on a minute: there its lease has lapsed.
    const later = new ManualClock(clock.now() + 60_000);
    const other = new Ledger({ store, clock: later, ttlMs: 23 * HOUR, leaseMs: 1_000 });
    const taker = await other.run(
      scripted([], [{ kind: 'settled', result: { kind: 'succeeded', value: 'order_from_reconcile' } }]).spec(),
    );
    expect(taker.value).toBe('order_from_reconcile');
    releaseSlow({ kind: 'succeeded', value: 'order_stale' });
    const stale = await slow;
    expect(stale.value).toBe('order_from_reconcile');
    const stored = await store.get<LedgerRecord<string>>(recordStoreKey('k-1'));
    expect(stored?.value.state).toEqual({ status: 'succeeded', result: 'order_from_reconcile' });
  });
});

describe('R3: the dedup window holds across bucket edges and ends after W', () => {
  it('R3: a retry 1 s after an hour boundary still matches; after W it is a new generation with a new key', async () => {
    const { ledger, clock } = setup();
    clock.set(Date.UTC(2026, 10, 28, 12, 59, 59, 500));
    const call = scripted([ok('cs_1'), ok('cs_2')]);
    const spec = call.spec({ operation: 'create', windowMs: HOUR });
    await ledger.run(spec);
    clock.set(Date.UTC(2026, 10, 28, 13, 0, 0, 500));
    expect(await ledger.run(spec)).toMatchObject({ value: 'cs_1', replayed: true });
    clock.advance(HOUR);
    const later = await ledger.run(spec);
    expect(later).toMatchObject({ value: 'cs_2', replayed: false });
    expect(later.record.generation).toBe(2);
    expect(call.sent[1].outboundKey).not.toBe(call.sent[0].outboundKey);
  });
});

describe('R3: the window counts from the checkout’s creation', () => {
  it('R3: a create that failed, then succeeded on a retry, is matched for W after the success, not after the first attempt', async () => {
    const { ledger, clock } = setup();
    const failed: StepResult<string> = { kind: 'failed', code: 'out_of_stock', message: 'sold out' };
    const call = scripted([failed, ok('cs_1'), ok('cs_2')]);
    const spec = call.spec({ operation: 'create', windowMs: HOUR });
    await ledger.run(spec);
    clock.advance(HOUR - 60_000);
    expect(await ledger.run(spec)).toMatchObject({ value: 'cs_1', replayed: false });
    // One second after the first attempt's window closed, but a minute after the checkout was created.
    clock.advance(61_000);
    expect(await ledger.run(spec)).toMatchObject({ value: 'cs_1', replayed: true });
    expect(call.sent).toHaveLength(2);
    expect(ledger.replayOf((await ledger.read<string>('k-1'))!, spec)).toMatchObject({ value: 'cs_1', replayed: true });
  });
});

describe('R8: retention', () => {
  it('R8: a sweep deletes expired settled records and never a pending or unknown one', async () => {
    const { ledger, clock } = setup({ ttlMs: HOUR, leaseMs: 1_000 });
    await ledger.run(scripted([ok()]).spec({ key: 'settled' }));
    await ledger.run(scripted([{ kind: 'unknown', reason: 'timeout' }]).spec({ key: 'unknown' }));
    void ledger.run(scripted([]).spec({ key: 'pending', execute: () => new Promise(() => {}) }));
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(2 * HOUR);
    expect(await ledger.sweep()).toEqual({ deleted: 1, kept: 2 });
    expect(await ledger.read('settled')).toBeUndefined();
    expect((await ledger.read('unknown'))?.state.status).toBe('unknown');
    expect((await ledger.read('pending'))?.state.status).toBe('pending');
  });

  it('R8: an expired settled record is purged lazily: the next run is fresh', async () => {
    const { ledger, clock } = setup({ ttlMs: HOUR });
    const call = scripted([ok('a'), ok('b')]);
    await ledger.run(call.spec());
    clock.advance(HOUR);
    expect(await ledger.run(call.spec())).toMatchObject({ value: 'b', replayed: false });
  });
});

describe('R9: fail closed', () => {
  it('R9: with the store down the call answers store_unavailable and the wrapped call never runs', async () => {
    const down = new Proxy(openMemoryStore(), {
      get(target, prop) {
        if (prop === 'description') return 'down://';
        return async () => {
          throw new StoreUnavailableError('store down:// unavailable: connection refused');
        };
      },
    }) as Store;
    const ledger = new Ledger({ store: down, ttlMs: HOUR, clock: new ManualClock() });
    const call = scripted([ok()]);
    await expect(ledger.run(call.spec())).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(call.sent).toHaveLength(0);
  });
});

describe('R10: everything is on record', () => {
  it('R10: the timeline names every attempt, its key, and the provider error codes', async () => {
    const { ledger } = setup();
    const call = scripted([
      { kind: 'failed', code: 'payment_declined', message: 'Card declined', providerRequestId: 'req_1' },
      { kind: 'succeeded', value: 'order_1', providerRequestId: 'req_2' },
    ]);
    await ledger.run(call.spec());
    const result = await ledger.run(call.spec());
    const timeline = result.record.timeline;
    expect(timeline.filter((e) => e.event === 'sent').map((e) => e.outbound_key)).toEqual(
      call.sent.map((a) => a.outboundKey),
    );
    expect(timeline.find((e) => e.event === 'failed')).toMatchObject({
      attempt: 1,
      code: 'payment_declined',
      provider_request_id: 'req_1',
    });
    expect(timeline.find((e) => e.event === 'succeeded')).toMatchObject({ attempt: 2, provider_request_id: 'req_2' });
  });
});

describe('R9: a store blip after the provider acted', () => {
  it('R9: the settle is retried while the store comes back, so the outcome is recorded and not left pending', async () => {
    const clock = new ManualClock();
    const store = openMemoryStore();
    let failures = 2;
    const flaky = new Proxy(store, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === 'replace') {
          return async (...args: Parameters<Store['replace']>) => {
            if (failures-- > 0) throw new StoreUnavailableError('store down:// unavailable: connection reset');
            return target.replace(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    const ledger = new Ledger({ store: flaky, clock, ttlMs: HOUR });
    const result = await ledger.run(scripted([ok('order_1')]).spec());
    expect(result).toMatchObject({ outcome: 'succeeded', value: 'order_1' });
    expect((await ledger.read('k-1'))?.state.status).toBe('succeeded');
  });
});

describe('R6: a resend carries exactly what the attempt sent', () => {
  it('R6: an unknown attempt retried with the same data is resent under its key', async () => {
    const { ledger } = setup();
    const call = scripted([{ kind: 'unknown', reason: 'timeout' }, ok()], [{ kind: 'resend' }]);
    await ledger.run(call.spec({ attemptFingerprint: 'card-A' }));
    const again = await ledger.run(call.spec({ attemptFingerprint: 'card-A' }));
    expect(again).toMatchObject({ outcome: 'succeeded', record: { attempt: 1 } });
    expect(call.sent.map((a) => a.outboundKey)).toEqual([call.sent[0].outboundKey, call.sent[0].outboundKey]);
  });

  it('R13: the last allowed attempt, unknown, retried with other data stays unknown (its request may still land), never attempts_exhausted', async () => {
    const { ledger } = setup();
    const declined: StepResult<string> = { kind: 'failed', code: 'payment_declined', message: 'declined' };
    const call = scripted([declined, declined, { kind: 'unknown', reason: 'socket closed' }], [{ kind: 'resend' }, { kind: 'settled', result: ok('order_A') }]);
    for (const card of ['card-A', 'card-A', 'card-A']) await ledger.run(call.spec({ attemptFingerprint: card }));
    const switched = await ledger.run(call.spec({ attemptFingerprint: 'card-B' }));
    expect(switched).toMatchObject({ outcome: 'unknown', record: { attempt: 3 } });
    expect(call.sent).toHaveLength(3);
    // The held request lands; the next call reads it and returns the order.
    expect(await ledger.run(call.spec({ attemptFingerprint: 'card-B' }))).toMatchObject({ outcome: 'succeeded', value: 'order_A' });
  });

  it('R6: retried with other data, after the provider shows no effect, it is superseded by attempt 2 with a new key', async () => {
    const { ledger } = setup();
    const call = scripted([{ kind: 'unknown', reason: 'timeout' }, ok('order_B')], [{ kind: 'resend' }]);
    await ledger.run(call.spec({ attemptFingerprint: 'card-A' }));
    const again = await ledger.run(call.spec({ attemptFingerprint: 'card-B' }));
    expect(again).toMatchObject({ outcome: 'succeeded', value: 'order_B', replayed: false, record: { attempt: 2 } });
    expect(call.sent.map((a) => a.number)).toEqual([1, 2]);
    expect(call.sent[1].outboundKey).not.toBe(call.sent[0].outboundKey);
    expect(again.record.timeline.find((e) => e.code === 'superseded')).toMatchObject({ event: 'failed', attempt: 1 });
  });

  it('R6: retried with other data while the provider shows success, the first outcome stands and nothing is sent', async () => {
    const { ledger } = setup();
    const call = scripted([{ kind: 'unknown', reason: 'timeout' }], [{ kind: 'settled', result: { kind: 'succeeded', value: 'order_A' } }]);
    await ledger.run(call.spec({ attemptFingerprint: 'card-A' }));
    const again = await ledger.run(call.spec({ attemptFingerprint: 'card-B' }));
    expect(again).toMatchObject({ outcome: 'succeeded', value: 'order_A', record: { attempt: 1 } });
    expect(call.sent).toHaveLength(1);
  });
});
