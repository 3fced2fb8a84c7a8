// Before complete_checkout charges, a client that can ask its person (MCP elicitation, form mode) asks them to
// approve the total and merchant in one sentence. Only a yes pays; no credentials are ever asked for.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ElicitRequestFormParams, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { CallHooks, ConfirmRequest } from '../checkout/checkouts.js';
import { quoteId } from '../commerce/merchant-text.js';
import { isoMinorDigits } from '../checkout/money.js';
import type { Logger } from '../log.js';

/** A person needs time to read and decide; past this the payment is not approved. */
const CONFIRM_TIMEOUT_MS = 10 * 60_000;

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/**
 * "EUR 12.50"-style amount from minor units, with the currency's own number of decimals; undefined unless the
 * amount is a safe integer and the currency an ISO 4217 code. The merchant chose both, and this is the sentence
 * a person approves a payment by: "250000 CENTS (= USD 2.50 …)" must never be shown as a currency.
 */
export function formatAmount(minor: number, currency: string): string | undefined {
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 0) return undefined;
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) return undefined;
  const code = currency.toUpperCase();
  if (!CURRENCIES.has(code)) return undefined;
  try {
    const digits = isoMinorDigits(code);
    const format = new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: code,
      currencyDisplay: 'code',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    // Exactly, from the integer's digits: `minor / 10 ** digits` is a double, off by a cent above 2^46 cents. String(-0) is "0".
    const whole = String(minor).padStart(digits + 1, '0');
    const decimal = digits === 0 ? whole : `${whole.slice(0, -digits)}.${whole.slice(-digits)}`;
    return format.format(decimal as unknown as number).replace(/\u00a0/g, ' ');
  } catch {
    return `${minor} ${code} (minor units)`;
  }
}

export function confirmMessage(request: ConfirmRequest): string {
  const shown = request.total === undefined ? undefined : formatAmount(request.total, request.currency);
  const amount =
    request.total === undefined
      ? 'the checkout total'
      : (shown ?? 'the checkout total (once-checkout cannot show it: the merchant gave no valid amount and currency, so decline unless you know it)');
  if (request.earlierAttempt) {
    return `The checkout changed since you approved it. Pay ${amount} to the merchant ${quoteId(request.merchant, 200)} for checkout ${quoteId(request.checkoutId)}? An earlier payment attempt for it has no known outcome yet and may still go through at this amount; nothing else is sent unless you confirm.`;
  }
  return `Pay ${amount} to the merchant ${quoteId(request.merchant, 200)} for checkout ${quoteId(request.checkoutId)}? Nothing is charged unless you confirm.`;
}

const CONFIRM_SCHEMA: ElicitRequestFormParams['requestedSchema'] = {
  type: 'object',
  properties: { confirm: { type: 'boolean', title: 'Confirm payment', description: 'Yes, charge my payment method.' } },
  required: ['confirm'],
};

/**
 * The `confirm` hook for one tool call, or undefined when the client cannot elicit (then complete proceeds as
 * configured). Any failure to get an answer counts as no.
 */
export function elicitationConfirm(
  server: Server,
  call: { requestId: RequestId; signal: AbortSignal },
  logger: Logger,
  principal: string,
): CallHooks['confirm'] {
  if (!server.getClientCapabilities()?.elicitation?.form) return undefined;
  return async (request) => {
    try {
      const answer = await server.elicitInput(
        { mode: 'form', message: confirmMessage(request), requestedSchema: CONFIRM_SCHEMA },
        { relatedRequestId: call.requestId, signal: call.signal, timeout: CONFIRM_TIMEOUT_MS },
      );
      const accepted = answer.action === 'accept' && answer.content?.confirm === true;
      logger.log('info', 'payment_confirmation', { principal, checkout: request.checkoutId, action: answer.action, accepted });
      return accepted ? 'accepted' : 'declined';
    } catch (error) {
      logger.log('warn', 'payment_confirmation_failed', { principal, checkout: request.checkoutId, message: error instanceof Error ? error.message : String(error) });
      return 'declined';
    }
  };
}
