// The reference merchant's side of ACP order events: it keeps each order's full state (rfc.orders.md) in its
// store, moves it along (confirm, ship, deliver, refund, cancel) when asked, and POSTs every state, signed with
// Merchant-Signature, to the URL it was given, as merchants do: at least once. Fault options make the
// deliveries look like the real world's: duplicates (two copies at once), retries (a second delivery as if the
// first answer was lost) and reordering (an event held back and sent after the next one). Failed deliveries
// are retried with backoff and a fresh signature.
import { randomBytes, type KeyObject } from 'node:crypto';
import type { Store } from '../../store/store.js';
import { signAcpEvent } from '../../orders/acp-signature.js';
import { signUcpRequest } from '../../orders/ucp-signature.js';
import type { SandboxSession } from './cart.js';
import type { Random } from './faults.js';

export const ORDER_EVENT_FAULTS = ['duplicate', 'retry', 'reorder'] as const;
export type OrderEventFault = (typeof ORDER_EVENT_FAULTS)[number];
export type OrderEventFaults = Partial<Record<OrderEventFault, number>>;

export const ORDER_STEPS = ['confirm', 'ship', 'deliver', 'refund', 'cancel'] as const;
export type OrderStep = (typeof ORDER_STEPS)[number];

/** `duplicate:0.5,retry:0.3,reorder:0.2`; an unknown name or a rate outside 0..1 is an Error naming the fix. */
export function parseOrderEventFaults(text: string | undefined): OrderEventFaults {
  const faults: OrderEventFaults = {};
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, rateText] = part.split(':');
    const rate = Number(rateText);
    if (!(ORDER_EVENT_FAULTS as readonly string[]).includes(name) || rateText === undefined || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new Error(`--order-events-faults: '${part}' is not fault:rate; faults are ${ORDER_EVENT_FAULTS.join(', ')}, rates 0..1 (e.g. duplicate:0.5,retry:0.3,reorder:0.2)`);
    }
    faults[name as OrderEventFault] = rate;
  }
  return faults;
}

/** The ACP order as this merchant keeps it. */
export interface SandboxOrder {
  type: 'order';
  id: string;
  checkout_session_id: string;
  permalink_url: string;
  status: string;
  line_items: Array<{ id: string; title: string; product_id: string; quantity: { ordered: number; current: number; fulfilled: number }; unit_price?: number; subtotal?: number }>;
  fulfillments: Array<{
    id: string;
    type: string;
    status: string;
    line_items: Array<{ id: string; quantity: number }>;
    carrier?: string;
    tracking_number?: string;
    tracking_url?: string;
    events: Array<{ id: string; type: string; occurred_at: string }>;
  }>;
  adjustments: Array<{ id: string; type: string; occurred_at: string; status: string; amount?: number; currency?: string; description?: string }>;
  totals: Array<{ type: string; display_text: string; amount: number }>;
}

/** How a UCP business signs its webhooks: its key, the key's id in its profile, and the profile's URL. */
export interface UcpSigner {
  key: KeyObject;
  kid: string;
  profile: string;
}

const MAX_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

export interface OrderEventSenderOptions {
  url: string;
  /** ACP: the shared secret (Merchant-Signature). */
  secret: string;
  /** UCP instead: RFC 9421 signatures with the business's key; bodies are UCP orders. */
  ucp?: UcpSigner;
  faults?: OrderEventFaults;
  rng?: Random;
  now?: () => number;
  /** Deliveries of one event before it is given up (each re-signed). Default 8. */
  maxAttempts?: number;
  /** First backoff; doubles up to 5 s. Default 200 ms. */
  backoffMs?: number;
  /** A reordered event is sent at the latest this long after it was held, if no later event came. Default 2 s. */
  holdMs?: number;
  /** One line per delivery attempt (status or error), for the merchant's log. */
  log?: (entry: Record<string, unknown>) => void;
}

export interface DeliveryStats {
  events: number;
  deliveries: number;
  duplicates: number;
  retries: number;
  reordered: number;
  failures: number;
  given_up: number;
}

/** How long after its first delivery an event's last attempt is made, with these settings (the waits between). */
export function retryWindowMs(options: Pick<OrderEventSenderOptions, 'maxAttempts' | 'backoffMs'>): number {
  let total = 0;
  let wait = options.backoffMs ?? FIRST_BACKOFF_MS;
  for (let attempt = 1; attempt < (options.maxAttempts ?? MAX_ATTEMPTS); attempt += 1) {
    total += wait;
    wait = Math.min(wait * 2, MAX_BACKOFF_MS);
  }
  return total;
}

/** Signs and delivers order events at least once, with the configured faults. */
export class OrderEventSender {
  readonly stats: DeliveryStats = { events: 0, deliveries: 0, duplicates: 0, retries: 0, reordered: 0, failures: 0, given_up: 0 };
  private readonly rng: Random;
  private readonly now: () => number;
  private readonly held = new Map<string, { body: Outgoing; timer: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: OrderEventSenderOptions) {
    this.rng = options.rng ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Where events go from now on (a receiver that could only start after this merchant, as in chaos). */
  setDestination(url: string, secret: string): void {
    this.options.url = url;
    this.options.secret = secret;
  }

  /** Queues one event; resolves when it (and anything held for after it) has been handed to delivery. */
  send(type: 'order_create' | 'order_update', order: SandboxOrder, currency = 'usd'): void {
    this.stats.events += 1;
    const event: Outgoing = this.options.ucp
      ? { body: JSON.stringify(toUcpOrder(order, currency)), id: `evt_${randomBytes(10).toString('hex')}`, at: Math.floor(this.now() / 1000) }
      : { body: JSON.stringify({ type, data: order }) };
    const body = event;
    const before = this.held.get(order.id);
    if (before) {
      clearTimeout(before.timer);
      this.held.delete(order.id);
    }
    const faults = this.options.faults ?? {};
    if (!before && this.fires(faults.reorder)) {
      // Held back: it goes out after this order's next event (or after holdMs), so it arrives late.
      this.stats.reordered += 1;
      const timer = setTimeout(() => {
        this.held.delete(order.id);
        this.track(this.deliver(body));
      }, this.options.holdMs ?? 2_000);
      timer.unref();
      this.held.set(order.id, { body, timer });
      return;
    }
    this.track(
      (async () => {
        await this.deliver(body);
        if (before) await this.deliver(before.body);
      })(),
    );
  }

  /** Resolves once every queued and held event has been delivered or given up. */
  async idle(): Promise<void> {
    for (const [id, held] of this.held) {
      clearTimeout(held.timer);
      this.held.delete(id);
      this.track(this.deliver(held.body));
    }
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(work: Promise<void>): void {
    const done = work.catch(() => {}).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private fires(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.rng() < rate;
  }

  /** One event, at least once: two copies at once (duplicate), again after success (retry), with backoff on failure. */
  private async deliver(body: Outgoing): Promise<void> {
    const faults = this.options.faults ?? {};
    const copies = this.fires(faults.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicates += 1;
    const again = this.fires(faults.retry);
    await Promise.all(Array.from({ length: copies }, () => this.untilAccepted(body)));
    if (again) {
      this.stats.retries += 1;
      await this.untilAccepted(body);
    }
  }

  private async untilAccepted(body: Outgoing): Promise<void> {
    const attempts = this.options.maxAttempts ?? MAX_ATTEMPTS;
    let wait = this.options.backoffMs ?? FIRST_BACKOFF_MS;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (await this.post(body, attempt)) return;
      this.stats.failures += 1;
      if (attempt === attempts) break;
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      wait = Math.min(wait * 2, MAX_BACKOFF_MS);
    }
    this.stats.given_up += 1;
  }

  /** Each delivery is signed afresh (a retry an hour later must still fall inside the receiver's window). */
  private headersFor(event: Outgoing, requestId: string): Record<string, string> {
    const now = Math.floor(this.now() / 1000);
    const ucp = this.options.ucp;
    if (!ucp) {
      const signature = signAcpEvent(this.options.secret, event.body, now);
      return { 'content-type': 'application/json', 'merchant-signature': signature, 'request-id': requestId, timestamp: new Date(this.now()).toISOString() };
    }
    const url = new URL(this.options.url);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'ucp-agent': `profile="${ucp.profile}"`,
      'webhook-id': event.id!,
      'webhook-timestamp': String(event.at!),
    };
    const signed = signUcpRequest({ method: 'POST', authority: url.host, target: `${url.pathname}${url.search}`, headers, body: Buffer.from(event.body) }, ucp.key, ucp.kid, now);
    return { ...headers, ...signed };
  }

  private async post(event: Outgoing, attempt: number): Promise<boolean> {
    this.stats.deliveries += 1;
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: this.headersFor(event, requestId),
        body: event.body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      this.options.log?.({ event: 'order_event_delivery', request_id: requestId, attempt, status: response.status });
      return response.ok;
    } catch (error) {
      this.options.log?.({ event: 'order_event_delivery', request_id: requestId, attempt, error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }
}

/** One event as sent: its body, and (UCP) its Webhook-Id and Webhook-Timestamp, the same on every delivery. */
interface Outgoing {
  body: string;
  id?: string;
  at?: number;
}

/** The same order in UCP's shape (order.md), as a UCP business would send it. */
export function toUcpOrder(order: SandboxOrder, currency: string): Record<string, unknown> {
  const status = (l: SandboxOrder['line_items'][number]) =>
    l.quantity.current === 0 ? 'removed' : l.quantity.fulfilled === l.quantity.current ? 'fulfilled' : l.quantity.fulfilled > 0 ? 'partial' : 'processing';
  return {
    ucp: { version: '2026-04-08', capabilities: { 'dev.ucp.shopping.order': [{ version: '2026-04-08' }] } },
    id: order.id,
    checkout_id: order.checkout_session_id,
    permalink_url: order.permalink_url,
    currency: currency.toUpperCase(),
    line_items: order.line_items.map((l) => ({
      id: l.id,
      item: { id: l.product_id, title: l.title, ...(l.unit_price !== undefined ? { price: l.unit_price } : {}) },
      quantity: { original: l.quantity.ordered, total: l.quantity.current, fulfilled: l.quantity.fulfilled },
      totals: l.subtotal !== undefined ? [{ type: 'subtotal', amount: l.subtotal }, { type: 'total', amount: l.subtotal }] : [],
      status: status(l),
    })),
    fulfillment: {
      expectations: [{ id: 'exp_1', line_items: order.line_items.map((l) => ({ id: l.id, quantity: l.quantity.current })), method_type: 'shipping', destination: {}, description: 'Ships in 1-2 business days' }],
      events: order.fulfillments.flatMap((f) =>
        f.events.map((e) => ({ id: e.id, occurred_at: e.occurred_at, type: e.type, line_items: f.line_items, ...(f.carrier ? { carrier: f.carrier } : {}), ...(f.tracking_number ? { tracking_number: f.tracking_number } : {}), ...(f.tracking_url ? { tracking_url: f.tracking_url } : {}) })),
      ),
    },
    adjustments: order.adjustments.map((a) => ({
      id: a.id,
      type: a.type,
      occurred_at: a.occurred_at,
      status: a.status,
      ...(a.amount !== undefined ? { totals: [{ type: 'total', amount: -a.amount }] } : {}),
      ...(a.description ? { description: a.description } : {}),
    })),
    totals: order.totals.filter((t) => t.type !== 'amount_refunded').map((t) => ({ type: t.type, display_text: t.display_text, amount: t.amount })),
  };
}

const ORDER_PREFIX = 'sandbox:orderlife:';

/** The merchant's orders after checkout, and their events. */
export type OrderProtocol = 'acp' | 'ucp';

export class SandboxOrders {
  constructor(
    private readonly store: Store,
    private readonly baseUrl: string,
    /** ACP's sender, for orders placed over ACP. */
    readonly sender: OrderEventSender | undefined,
    private readonly now: () => number = Date.now,
    /** UCP's sender, for orders placed over UCP. */
    readonly ucpSender?: OrderEventSender,
  ) {}

  private senderFor(protocol: OrderProtocol | undefined): OrderEventSender | undefined {
    return protocol === 'ucp' ? this.ucpSender : this.sender;
  }

  private readonly announcing = new Set<Promise<unknown>>();

  /** Resolves once every order created so far was announced and every event delivered (or given up). */
  async idle(): Promise<void> {
    while (this.announcing.size > 0) await Promise.all([...this.announcing]);
    await Promise.all([this.sender?.idle(), this.ucpSender?.idle()]);
  }

  /** A complete committed an order: keep it and announce it (order_create). */
  created(session: SandboxSession, protocol: OrderProtocol = 'acp'): Promise<SandboxOrder | undefined> {
    const work = this.create(session, protocol);
    const tracked = work.catch(() => {}).finally(() => this.announcing.delete(tracked));
    this.announcing.add(tracked);
    return work;
  }

  private async create(session: SandboxSession, protocol: OrderProtocol): Promise<SandboxOrder | undefined> {
    const order = session.order;
    if (!order) return undefined;
    const lines = session.line_items.map((line) => {
      const subtotal = line.totals?.find((t) => t.type === 'subtotal')?.amount;
      return {
        id: line.id,
        title: line.name ?? line.item.id,
        product_id: line.item.id,
        quantity: { ordered: line.quantity, current: line.quantity, fulfilled: 0 },
        ...(line.unit_amount !== undefined ? { unit_price: line.unit_amount } : {}),
        ...(subtotal !== undefined ? { subtotal } : {}),
      };
    });
    const full: SandboxOrder = {
      type: 'order',
      id: order.id,
      checkout_session_id: order.checkout_session_id,
      permalink_url: order.permalink_url,
      status: 'created',
      line_items: lines,
      fulfillments: [],
      adjustments: [],
      totals: session.totals.filter((t) => t.type !== 'items_base_amount').map((t) => ({ type: t.type, display_text: t.display_text, amount: t.amount })),
    };
    await this.store.put(`${ORDER_PREFIX}${order.id}`, { order: full, currency: session.currency, protocol });
    this.senderFor(protocol)?.send('order_create', full, session.currency);
    return full;
  }

  async get(orderId: string): Promise<SandboxOrder | undefined> {
    return (await this.store.get<{ order: SandboxOrder }>(`${ORDER_PREFIX}${orderId}`))?.value.order;
  }

  /** Moves an order one step along its life and announces the new state (order_update). */
  async advance(orderId: string, step: OrderStep): Promise<SandboxOrder | undefined> {
    const stored = await this.store.get<{ order: SandboxOrder; currency: string; protocol?: OrderProtocol }>(`${ORDER_PREFIX}${orderId}`);
    if (!stored) return undefined;
    const at = new Date(this.now()).toISOString();
    const order: SandboxOrder = structuredClone(stored.value.order);
    const all = order.line_items.map((l) => ({ id: l.id, quantity: l.quantity.current }));
    switch (step) {
      case 'confirm':
        order.status = 'confirmed';
        break;
      case 'ship': {
        const n = order.fulfillments.length + 1;
        const tracking = `9400${randomBytes(8).toString('hex').replace(/[a-f]/g, '7').slice(0, 16)}`;
        order.fulfillments.push({
          id: `ful_${n}`,
          type: 'shipping',
          status: 'shipped',
          line_items: all,
          carrier: 'USPS',
          tracking_number: tracking,
          tracking_url: `${this.baseUrl}/track/${tracking}`,
          events: [{ id: `evt_${n}_1`, type: 'shipped', occurred_at: at }],
        });
        for (const line of order.line_items) line.quantity.fulfilled = line.quantity.current;
        order.status = 'shipped';
        break;
      }
      case 'deliver':
        for (const f of order.fulfillments) {
          if (f.status === 'delivered') continue;
          f.status = 'delivered';
          f.events.push({ id: `evt_${f.id}_${f.events.length + 1}`, type: 'delivered', occurred_at: at });
        }
        order.status = 'completed';
        break;
      case 'refund': {
        const first = order.line_items[0];
        const amount = first?.unit_price ?? 0;
        order.adjustments.push({ id: `adj_${order.adjustments.length + 1}`, type: 'refund', occurred_at: at, status: 'completed', amount, currency: stored.value.currency, description: `Refund of one ${first?.title ?? 'item'}` });
        const refunded = order.adjustments.filter((a) => a.type === 'refund' && a.status === 'completed').reduce((sum, a) => sum + (a.amount ?? 0), 0);
        order.totals = [...order.totals.filter((t) => t.type !== 'amount_refunded'), { type: 'amount_refunded', display_text: 'Refunded', amount: refunded }];
        break;
      }
      case 'cancel':
        order.status = 'canceled';
        order.adjustments.push({ id: `adj_${order.adjustments.length + 1}`, type: 'cancellation', occurred_at: at, status: 'completed' });
        break;
    }
    await this.store.put(`${ORDER_PREFIX}${orderId}`, { ...stored.value, order });
    this.senderFor(stored.value.protocol)?.send('order_update', order, stored.value.currency);
    return order;
  }
}
