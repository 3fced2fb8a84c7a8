// `payment_data.handler_id` is optional for the agent: when the merchant's session advertises exactly one payment
// handler that fits the instrument, we use it; otherwise the agent is told which handlers there are.
import { quoteId } from '../../commerce/merchant-text.js';
import type { MerchantSession } from '../../commerce/merchant-session.js';

export interface AdvertisedHandler {
  id: string;
  name?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `capabilities.payment.handlers` of a parsed session: merchant data, kept only where it is well formed. */
export function advertisedHandlers(session: MerchantSession): AdvertisedHandler[] {
  const payment = isObject(session.capabilities) ? session.capabilities.payment : undefined;
  const handlers = isObject(payment) && Array.isArray(payment.handlers) ? payment.handlers : [];
  return handlers.flatMap((h) =>
    isObject(h) && typeof h.id === 'string' && h.id !== '' ? [{ id: h.id, ...(typeof h.name === 'string' ? { name: h.name } : {}) }] : [],
  );
}

/** A handler fits an instrument type when its reverse-DNS name ends in that type (dev.acp.tokenized.card → card). */
export function fits(handler: AdvertisedHandler, instrumentType: string): boolean {
  return handler.name !== undefined && handler.name.split('.').at(-1) === instrumentType;
}

/** What a handler's name is (dev.acp.tokenized.card): code characters only, bounded. */
const HANDLER_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

export type HandlerChoice = { ok: true; id: string } | { ok: false; message: string };

export function chooseHandler(handlers: AdvertisedHandler[], instrumentType: string): HandlerChoice {
  const fitting = handlers.filter((h) => fits(h, instrumentType));
  if (fitting.length === 1) return { ok: true, id: fitting[0].id };
  const listed = handlers
    .slice(0, 10)
    // A name is shown only as what it is meant to be, a reverse-DNS name: any other text of the merchant's is left out.
    .map((h) => `${quoteId(h.id)}${h.name && HANDLER_NAME.test(h.name) ? ` (${h.name})` : ''}`)
    .join(', ');
  if (handlers.length === 0) {
    return { ok: false, message: 'payment_data.handler_id is needed and the merchant advertises no payment handlers on this checkout; ask the merchant which handler to use.' };
  }
  const why = fitting.length === 0 ? `none of them fits the instrument type ${quoteId(instrumentType)}` : `${fitting.length} of them fit the instrument type ${quoteId(instrumentType)}`;
  return { ok: false, message: `payment_data.handler_id is needed: the merchant offers ${listed}, and ${why}. Call again with one of these ids as payment_data.handler_id.` };
}
