// Environment → StripeConfig, or one clear line naming the variable and the fix.

export interface StripeConfig {
  secretKey: string;
  /** Default https://api.stripe.com; tests point it at a local fake. */
  apiBase?: string;
  /** Per-request timeout; a timeout is an ambiguous outcome (`unknown`). */
  timeoutMs?: number;
  /**
   * STRIPE_ACCOUNT_ID (acct_…), optional: the merchant identity (R2, R15) then comes from the account, not the key,
   * so a rotated key keeps its records and keys. Without it the identity is derived from the key.
   */
  accountId?: string;
}

export const DEFAULT_STRIPE_API_BASE = 'https://api.stripe.com';

type Env = Readonly<Record<string, string | undefined>>;

export function readStripeConfig(env: Env): StripeConfig {
  const secretKey = env.STRIPE_SECRET_KEY?.trim();
  if (!secretKey) {
    throw new Error('STRIPE_SECRET_KEY is not set: set it to your Stripe secret key (sk_test_… or rk_test_…) for ONCE_BACKEND=stripe');
  }
  checkStripeSecretKey(secretKey);
  const apiBase = env.STRIPE_API_BASE?.trim() || DEFAULT_STRIPE_API_BASE;
  checkStripeApiBase(apiBase);
  const accountId = env.STRIPE_ACCOUNT_ID?.trim();
  if (!accountId) return { secretKey, apiBase };
  if (!/^acct_[A-Za-z0-9]+$/.test(accountId)) {
    throw new Error(
      `STRIPE_ACCOUNT_ID is not a Stripe account id (expected acct_…): set it to the account STRIPE_SECRET_KEY belongs to ` +
        '(once-checkout doctor shows it), or unset it',
    );
  }
  return { secretKey, apiBase, accountId };
}

/** Throws when the key is not a secret or restricted key; the message never repeats the key. */
export function checkStripeSecretKey(secretKey: string): void {
  if (secretKey.startsWith('pk_')) {
    throw new Error('STRIPE_SECRET_KEY holds a publishable key (pk_…): use the secret key (sk_…) or a restricted key (rk_…)');
  }
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(secretKey)) {
    throw new Error('STRIPE_SECRET_KEY does not look like a Stripe secret key: expected sk_test_…, sk_live_…, rk_test_… or rk_live_…');
  }
}

export function checkStripeApiBase(apiBase: string): URL {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error(`STRIPE_API_BASE is not a URL (${apiBase}): use e.g. https://api.stripe.com or http://127.0.0.1:12111`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`STRIPE_API_BASE must be http or https (got ${url.protocol}): use e.g. https://api.stripe.com`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new Error(`STRIPE_API_BASE must have no path (got ${url.pathname}): the SDK adds /v1 itself`);
  }
  return url;
}
