// Which Stripe account a secret key belongs to (GET /v1/account), for `doctor`: so the operator can set
// STRIPE_ACCOUNT_ID, and so a STRIPE_ACCOUNT_ID that names another account is caught before records mix.
import Stripe from 'stripe';
import { createStripeClient } from './stripe-client.js';
import type { StripeConfig } from './stripe-config.js';

export interface StripeAccountCheck {
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
}

const TIMEOUT_MS = 8_000;

export async function checkStripeAccount(options: StripeConfig): Promise<StripeAccountCheck> {
  const stripe = createStripeClient({ ...options, timeoutMs: Math.min(options.timeoutMs ?? TIMEOUT_MS, TIMEOUT_MS) });
  let account: Stripe.Account;
  try {
    account = await stripe.accounts.retrieveCurrent();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeAuthenticationError) {
      return { status: 'fail', detail: 'Stripe rejected STRIPE_SECRET_KEY (401): set it to a current secret key of the account (Dashboard → Developers → API keys)' };
    }
    if (err instanceof Stripe.errors.StripePermissionError) {
      return { status: 'warn', detail: 'this restricted key may not read its account (403), so the account cannot be shown: grant it "Account: read", or check STRIPE_ACCOUNT_ID by hand' };
    }
    if (err instanceof Stripe.errors.StripeConnectionError) return { status: 'skip', detail: 'Stripe did not answer, so the account is not known' };
    const message = err instanceof Error ? err.message : String(err);
    return { status: 'warn', detail: `Stripe did not say which account the key belongs to (${message.slice(0, 200)})` };
  }
  const name = account.settings?.dashboard?.display_name ?? account.business_profile?.name ?? undefined;
  const which = `STRIPE_SECRET_KEY belongs to ${account.id}${name ? ` (${name})` : ''}`;
  if (options.accountId === undefined) {
    return { status: 'ok', detail: `${which}; set STRIPE_ACCOUNT_ID=${account.id} so records and keys survive a key rotation` };
  }
  if (options.accountId !== account.id) {
    return {
      status: 'fail',
      detail: `${which}, but STRIPE_ACCOUNT_ID is ${options.accountId}: set STRIPE_ACCOUNT_ID=${account.id}, or use a key of ${options.accountId}`,
    };
  }
  return { status: 'ok', detail: `${which}, as STRIPE_ACCOUNT_ID says` };
}
