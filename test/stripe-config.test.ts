// Misconfiguration of the Stripe backend fails with one clear line, or as `unknown` when Stripe cannot be reached.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import { readStripeConfig } from '../src/backends/stripe/stripe-config.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';

const SECRET = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('stripe configuration', () => {
  let fake: StripeFake | undefined;
  afterEach(async () => fake?.close());

  it('reads STRIPE_SECRET_KEY and STRIPE_API_BASE (default https://api.stripe.com)', () => {
    expect(readStripeConfig({ STRIPE_SECRET_KEY: SECRET })).toEqual({ secretKey: SECRET, apiBase: 'https://api.stripe.com' });
    expect(readStripeConfig({ STRIPE_SECRET_KEY: SECRET, STRIPE_API_BASE: 'http://127.0.0.1:9' }).apiBase).toBe(
      'http://127.0.0.1:9',
    );
  });

  it('a missing, publishable or malformed key is one line naming STRIPE_SECRET_KEY, never echoing the value', () => {
    expect(() => readStripeConfig({})).toThrow(/^STRIPE_SECRET_KEY is not set: /);
    expect(() => readStripeConfig({ STRIPE_SECRET_KEY: 'pk_test_abc123' })).toThrow(/STRIPE_SECRET_KEY holds a publishable key/);
    try {
      readStripeConfig({ STRIPE_SECRET_KEY: 'not-a-key-s3cr3t' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^STRIPE_SECRET_KEY does not look like/);
      expect((err as Error).message).not.toContain('s3cr3t');
      expect((err as Error).message).not.toContain('\n');
    }
    expect(() => new StripeBackend({ secretKey: '' })).toThrow(/STRIPE_SECRET_KEY/);
  });

  it('a malformed STRIPE_API_BASE is named with the fix', () => {
    expect(() => readStripeConfig({ STRIPE_SECRET_KEY: SECRET, STRIPE_API_BASE: 'api.stripe.com' })).toThrow(
      /^STRIPE_API_BASE is not a URL/,
    );
    expect(() => readStripeConfig({ STRIPE_SECRET_KEY: SECRET, STRIPE_API_BASE: 'ftp://x' })).toThrow(
      /^STRIPE_API_BASE must be http or https/,
    );
  });

  it('an unreachable base URL is unknown (nothing known to have happened), not a crash', async () => {
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: await closedPortUrl(), timeoutMs: 1_000 });
    const got = await backend.get('pi_123');
    expect(got.kind).toBe('unknown');
    const created = await backend.create({ items: [{ id: 'price_1', quantity: 1 }], currency: 'usd' }, {
      idempotencyKey: 'k-unreachable',
      attempt: 1,
      requestId: 'r',
    });
    expect(created.kind).toBe('unknown');
  });

  it('a key Stripe rejects (401) is a merchant_error naming STRIPE_SECRET_KEY', async () => {
    fake = await startStripeFake({ keys: { sk_test_theRightOne: 'acct_1' } });
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url });
    const got = await backend.get('pi_123');
    expect(got).toMatchObject({ kind: 'failed', code: 'merchant_error' });
    if (got.kind === 'failed') expect(got.message).toContain('STRIPE_SECRET_KEY');
  });
});
