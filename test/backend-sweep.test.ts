// What a backend keeps in the ledger's store beside the records is swept with them (R8): UCP's kept update
// bodies, once the business no longer keeps their keys (24 h), and the sweep run as the server runs it.
import { describe, expect, it } from 'vitest';
import { readUcpConfig } from '../src/backends/ucp/ucp-config.js';
import { SENT_PREFIX, UcpBackend } from '../src/backends/ucp/ucp-backend.js';
import type { UcpTransport } from '../src/backends/ucp/ucp-wire.js';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger } from '../src/ledger/ledger.js';
import { sweepOnce } from '../src/ledger/sweep-timer.js';
import { openMemoryStore } from '../src/store/memory.js';

const HOUR = 3_600_000;
const silent: UcpTransport = {
  send: async () => {
    throw new Error('the sweep sends nothing');
  },
};

function ucpOn(clock: ManualClock) {
  const store = openMemoryStore();
  const config = readUcpConfig({ UCP_BASE_URL: 'https://shop.example/ucp', UCP_AGENT_PROFILE: 'https://agent.example/profile' });
  const ucp = new UcpBackend({ ...config, endpoint: { transport: 'rest', url: new URL('https://shop.example/ucp'), variable: 'UCP_BASE_URL' }, store, transport: silent, now: () => clock.now() });
  return { store, ucp };
}

describe('R8: what a backend keeps beside the records expires too', () => {
  it('R8: UCP update bodies kept for a resend are deleted once older than the business keeps their keys, and no sooner', async () => {
    const clock = new ManualClock();
    const { store, ucp } = ucpOn(clock);
    await store.put(`${SENT_PREFIX}old`, { checkout: { id: 'c1' }, at: clock.now() - 24 * HOUR });
    await store.put(`${SENT_PREFIX}young`, { checkout: { id: 'c2' }, at: clock.now() - 23 * HOUR });
    await store.put(`${SENT_PREFIX}unreadable`, { checkout: { id: 'c3' } });
    await store.put('rec:not-ucp', { at: 0 });
    expect(await ucp.sweep(clock.now())).toBe(2);
    expect(await store.get(`${SENT_PREFIX}old`)).toBeUndefined();
    expect(await store.get(`${SENT_PREFIX}unreadable`)).toBeUndefined();
    expect(await store.get(`${SENT_PREFIX}young`)).toBeDefined();
    expect(await store.get('rec:not-ucp')).toBeDefined();
    clock.advance(HOUR);
    expect(await ucp.sweep(clock.now())).toBe(1);
    expect(await store.get(`${SENT_PREFIX}young`)).toBeUndefined();
  });

  it('R8: the server\u2019s sweep runs the ledger\u2019s, then the backend\u2019s, on the ledger\u2019s clock', async () => {
    const clock = new ManualClock();
    const { store, ucp } = ucpOn(clock);
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR });
    await store.put(`${SENT_PREFIX}old`, { checkout: { id: 'c1' }, at: clock.now() });
    expect(await sweepOnce(ledger, ucp)).toEqual({ deleted: 0, kept: 0, backend: 0 });
    clock.advance(24 * HOUR);
    expect(await sweepOnce(ledger, ucp)).toEqual({ deleted: 0, kept: 0, backend: 1 });
    expect(await sweepOnce(ledger, {})).toEqual({ deleted: 0, kept: 0, backend: 0 });
  });
});
