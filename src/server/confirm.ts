// Before complete_checkout charges, a client that can ask its person (MCP elicitation, form mode) asks them to
// approve the total and merchant in one sentence. Only a yes pays; no credentials are ever asked for.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ElicitRequestFormParams, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { CallHooks, ConfirmRequest } from '../checkout/checkouts.js';
import type { Logger } from '../log.js';

/** A person needs time to read and decide; past this the payment is not approved. */
export const CONFIRM_TIMEOUT_MS = 10 * 60_000;

/** "EUR 12.50"-style amount from minor units, with the currency's own number of decimals. */
export function formatAmount(minor: number, currency: string): string {
  const code = currency.toUpperCase();
  try {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: code, currencyDisplay: 'code' });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits).replace(/\u00a0/g, ' ');
  } catch {
    return `${minor} ${code} (minor units)`;
  }
}

export function confirmMessage(request: ConfirmRequest): string {
  const amount = request.total === undefined ? 'the checkout total' : formatAmount(request.total, request.currency);
  return `Pay ${amount} to the merchant "${request.merchant}" for checkout ${request.checkoutId}? Nothing is charged unless you confirm.`;
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
