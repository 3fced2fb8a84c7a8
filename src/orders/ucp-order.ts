// A UCP order (order.md: line items with original/total/fulfilled quantities, fulfillment expectations and an
// append-only event log, signed adjustments) in the one order shape the agent reads whatever the backend (ACP's
// Order, rfc.orders.md): shipments are grouped by tracking number, amounts become what was credited, the status
// is derived from the events as the RFC derives it. The result goes through our order schema like any other.
import { parseMerchantOrder, type MerchantOrder } from './merchant-order.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

function totalOf(totals: unknown): number | undefined {
  return int(list(totals).find((t) => t.type === 'total')?.amount);
}

const DELIVERED = new Set(['delivered']);
const MOVING = new Set(['shipped', 'in_transit', 'out_for_delivery']);

export function fromUcpOrder(body: unknown): { ok: true; order: MerchantOrder } | { ok: false; problem: string; param: string } {
  if (!isObject(body)) return { ok: false, problem: 'the event must be a UCP order object', param: '$' };
  const lines = list(body.line_items).map((line) => {
    const item = isObject(line.item) ? line.item : {};
    const quantity = isObject(line.quantity) ? line.quantity : {};
    return {
      id: line.id,
      title: text(item.title) ?? text(item.id) ?? String(line.id),
      ...(text(item.id) ? { product_id: item.id } : {}),
      quantity: { ordered: int(quantity.original) ?? int(quantity.total) ?? 0, current: int(quantity.total) ?? 0, fulfilled: int(quantity.fulfilled) ?? 0 },
      ...(int(item.price) !== undefined ? { unit_price: item.price } : {}),
      ...(totalOf(line.totals) !== undefined ? { subtotal: totalOf(line.totals) } : {}),
      ...(text(line.status) ? { status: line.status } : {}),
    };
  });
  const fulfillment = isObject(body.fulfillment) ? body.fulfillment : {};
  const method = text(list(fulfillment.expectations)[0]?.method_type) ?? 'shipping';
  const shipments = new Map<string, Json[]>();
  for (const event of list(fulfillment.events)) {
    const key = text(event.tracking_number) ?? text(event.id) ?? '';
    shipments.set(key, [...(shipments.get(key) ?? []), event]);
  }
  const fulfillments = [...shipments.values()].map((events, index) => {
    const last = events[events.length - 1];
    const tracked = events.find((e) => text(e.tracking_number)) ?? last;
    return {
      id: `shipment_${index + 1}`,
      type: method,
      status: text(last.type),
      line_items: list(last.line_items).map((l) => ({ id: l.id, quantity: int(l.quantity) ?? 0 })),
      ...(text(tracked.carrier) ? { carrier: tracked.carrier } : {}),
      ...(text(tracked.tracking_number) ? { tracking_number: tracked.tracking_number } : {}),
      ...(text(tracked.tracking_url) ? { tracking_url: tracked.tracking_url } : {}),
      events: events.map((e) => ({ id: e.id, type: e.type, occurred_at: e.occurred_at, ...(text(e.description) ? { description: e.description } : {}) })),
    };
  });
  const adjustments = list(body.adjustments).map((a) => {
    const amount = totalOf(a.totals);
    return {
      id: a.id,
      type: a.type,
      occurred_at: a.occurred_at,
      status: a.status,
      // UCP signs reductions negative; ACP's amount is what the buyer was credited.
      ...(amount !== undefined ? { amount: Math.abs(amount), currency: text(body.currency)?.toLowerCase() } : {}),
      ...(text(a.description) ? { description: a.description } : {}),
    };
  });
  const refunded = adjustments.filter((a) => a.type === 'refund' && a.status === 'completed').reduce((sum, a) => sum + (a.amount ?? 0), 0);
  const totals = [
    ...list(body.totals).map((t) => ({ type: t.type, display_text: text(t.display_text) ?? String(t.type), amount: t.amount })),
    ...(refunded > 0 ? [{ type: 'amount_refunded', display_text: 'Refunded', amount: refunded }] : []),
  ];
  const statuses = fulfillments.map((f) => f.status ?? '');
  const status = adjustments.some((a) => a.type === 'cancellation' && a.status === 'completed')
    ? 'canceled'
    : statuses.length > 0 && statuses.every((s) => DELIVERED.has(s))
      ? 'completed'
      : statuses.some((s) => MOVING.has(s) || DELIVERED.has(s))
        ? 'shipped'
        : 'confirmed';
  return parseMerchantOrder({
    type: 'order',
    id: body.id,
    checkout_session_id: body.checkout_id,
    permalink_url: body.permalink_url,
    ...(text(body.label) ? { order_number: body.label } : {}),
    status,
    line_items: lines,
    fulfillments,
    adjustments,
    totals,
  });
}
