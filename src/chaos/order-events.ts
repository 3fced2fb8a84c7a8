// `chaos --order-events` (issue 18): the merchant also sends signed order events, with duplicates, retries
// after success and reordering, to a server in HTTP mode on the run's ledger store; after the storm a share
// of the orders ship and are delivered. The check: every order the merchant holds is on its checkout's event
// record, no state was applied twice, the head shows the merchant's newest state (never an older one), and no
// complete of an ordered checkout is left without an outcome.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { headStoreKey, type AnchorHead } from '../checkout/heads.js';
import type { LedgerRecord } from '../ledger/record.js';
import { orderEventsKey, type OrderEventsRecord } from '../orders/order-events.js';
import type { SandboxOrder } from '../backends/sandbox/order-events.js';
import type { Store } from '../store/store.js';

export const ORDER_EVENT_FAULTS = { duplicate: 0.2, retry: 0.2, reorder: 0.2 };

export interface OrderEventsCheck {
  orders: number;
  /** Distinct states the merchant sent, and its deliveries of them (duplicates and retries included). */
  events: number;
  deliveries: number;
  duplicates: number;
  retries: number;
  reordered: number;
  /** Events the merchant stopped delivering, the receiver having refused every attempt (see ORDER_EVENT_DELIVERY). */
  givenUp: number;
  /** Lines on the ledger's event records: applied, and late (an older state, recorded only). */
  applied: number;
  late: number;
  /** Must be 0: an order the ledger never recorded; a head showing an older state; a state applied twice; a complete left open. */
  missing: string[];
  stale: string[];
  appliedTwice: string[];
  unsettled: string[];
}

export interface OrderReceiver {
  url: string;
  secret: string;
  stop(): Promise<void>;
}

/** `serve --http` on the run's store with ACP_WEBHOOK_SECRET: where the merchant sends its events. */
export async function startOrderReceiver(bin: string, env: Record<string, string>): Promise<OrderReceiver> {
  const secret = `whsec_${randomBytes(24).toString('hex')}`;
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve', '--http', '127.0.0.1:0'], {
    env: { ...env, ACP_WEBHOOK_SECRET: secret, ONCE_HTTP_TOKENS: `${randomBytes(16).toString('hex')}=chaos-receiver`, ONCE_LOG: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    let partial = '';
    const timer = setTimeout(() => reject(new Error(`the order event receiver did not start:\n${lines.join('\n')}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const split = partial.split('\n');
      partial = split.pop() ?? '';
      for (const line of split) {
        if (lines.length < 50) lines.push(line);
        const started = /"order_events_url":"([^"]+)"/.exec(line);
        if (started) {
          clearTimeout(timer);
          resolve(started[1]);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the order event receiver exited with ${code}:\n${lines.join('\n')}`));
    });
  });
  return {
    url,
    secret,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The merchant's orders (its own store) against the ledger's event records and heads. */
export async function checkOrderEvents(
  merchantStore: Store,
  ledger: Store,
  merchant: string,
  sent: { events: number; deliveries: number; duplicates: number; retries: number; reordered: number; givenUp: number },
): Promise<OrderEventsCheck> {
  const check: OrderEventsCheck = { orders: 0, ...sent, applied: 0, late: 0, missing: [], stale: [], appliedTwice: [], unsettled: [] };
  const open = new Map<string, string>();
  for await (const [, record] of ledger.entries<LedgerRecord>('rec:')) {
    if (record.operation === 'complete' && record.anchor && (record.state.status === 'unknown' || record.state.status === 'pending')) open.set(record.anchor, record.key);
  }
  for await (const [, stored] of merchantStore.entries<{ order: SandboxOrder }>('sandbox:orderlife:')) {
    const order = stored.order;
    check.orders += 1;
    const events = (await ledger.get<OrderEventsRecord>(orderEventsKey('acp', merchant, order.checkout_session_id)))?.value;
    if (!events) {
      check.missing.push(`${order.id} (checkout ${order.checkout_session_id})`);
      continue;
    }
    check.applied += events.lines.filter((l) => l.outcome === 'applied').length;
    check.late += events.lines.filter((l) => l.outcome === 'late').length;
    const digests = events.lines.map((l) => l.digest);
    // The digests are the server's own making; in a chaos run each state the merchant sends has a status of its
    // own (created, shipped, completed), so two lines of one order with one status are one state recorded twice.
    const states = events.lines.map((l) => `${l.order_id} ${l.status}`);
    if (new Set(digests).size !== digests.length || new Set(states).size !== states.length) check.appliedTwice.push(order.checkout_session_id);
    const head = (await ledger.get<AnchorHead>(headStoreKey('acp', merchant, order.checkout_session_id)))?.value;
    if (head && head.order?.value.status !== order.status) check.stale.push(`${order.checkout_session_id}: head ${head.order?.value.status ?? 'none'}, merchant ${order.status}`);
    if (open.has(order.checkout_session_id)) check.unsettled.push(`${order.checkout_session_id} (record ${open.get(order.checkout_session_id)})`);
  }
  return check;
}

export function orderEventsClean(check: OrderEventsCheck | undefined): boolean {
  // More lines than states the merchant sent: some state was recorded twice, whatever our digests say.
  return !check || (check.missing.length + check.stale.length + check.appliedTwice.length + check.unsettled.length === 0 && check.applied + check.late <= check.events);
}
