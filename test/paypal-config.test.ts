// PayPal configuration and the ONCE_CATALOG file: one clear line naming the variable, or `unknown` when unreachable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalogFile, parseCatalog } from '../src/backends/catalog-file.js';
import { PaypalBackend } from '../src/backends/paypal/paypal-backend.js';
import { readPaypalConfig } from '../src/backends/paypal/paypal-config.js';
import { fromPaypalValue, toPaypalMoney } from '../src/backends/paypal/paypal-money.js';
import { startPaypalFake, type PaypalFake } from './fakes/paypal-fake.js';

const CATALOG = { sku_mug: { name: 'Mug', unit_amount: 1250, currency: 'usd' } };

function catalogFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'once-catalog-')), 'catalog.json');
  writeFileSync(path, content);
  return path;
}

describe('paypal configuration', () => {
  let fake: PaypalFake | undefined;
  afterEach(async () => fake?.close());

  it('reads the PAYPAL_* variables and ONCE_CATALOG, with the sandbox base and 6 h retention by default', () => {
    const env = { PAYPAL_CLIENT_ID: 'id', PAYPAL_CLIENT_SECRET: 'secret', ONCE_CATALOG: catalogFile(JSON.stringify(CATALOG)) };
    expect(readPaypalConfig(env)).toEqual({
      clientId: 'id',
      clientSecret: 'secret',
      apiBase: 'https://api-m.sandbox.paypal.com',
      catalog: CATALOG,
      requestIdRetentionMs: 6 * 3_600_000,
    });
    expect(readPaypalConfig({ ...env, PAYPAL_REQUEST_ID_RETENTION: '72h' }).requestIdRetentionMs).toBe(72 * 3_600_000);
  });

  it('each missing or malformed variable is one line naming it and the fix', () => {
    const catalog = catalogFile(JSON.stringify(CATALOG));
    expect(() => readPaypalConfig({ PAYPAL_CLIENT_SECRET: 's', ONCE_CATALOG: catalog })).toThrow(/^PAYPAL_CLIENT_ID is not set: /);
    expect(() => readPaypalConfig({ PAYPAL_CLIENT_ID: 'i', ONCE_CATALOG: catalog })).toThrow(/^PAYPAL_CLIENT_SECRET is not set: /);
    expect(() => readPaypalConfig({ PAYPAL_CLIENT_ID: 'i', PAYPAL_CLIENT_SECRET: 's' })).toThrow(/^ONCE_CATALOG is not set: /);
    const base = { PAYPAL_CLIENT_ID: 'i', PAYPAL_CLIENT_SECRET: 's', ONCE_CATALOG: catalog };
    expect(() => readPaypalConfig({ ...base, PAYPAL_API_BASE: 'nope' })).toThrow(/^PAYPAL_API_BASE is not a URL/);
    expect(() => readPaypalConfig({ ...base, PAYPAL_REQUEST_ID_RETENTION: 'six hours' })).toThrow(/^PAYPAL_REQUEST_ID_RETENTION is not a duration/);
  });

  it('a bad catalog file names ONCE_CATALOG, the file and the item', () => {
    expect(() => loadCatalogFile('/nonexistent/catalog.json')).toThrow(/^ONCE_CATALOG: cannot read \/nonexistent\/catalog\.json \(ENOENT\)/);
    expect(() => loadCatalogFile(catalogFile('{oops'))).toThrow(/^ONCE_CATALOG: .* is not valid JSON/);
    expect(() => parseCatalog({ sku_a: { name: 'A', unit_amount: 12.5, currency: 'usd' } })).toThrow(/item "sku_a": "unit_amount" must be/);
    expect(() => parseCatalog({ sku_a: { name: 'A', unit_amount: 1, currency: 'dollars' } })).toThrow(/"currency" must be/);
    expect(() => parseCatalog([])).toThrow(/^ONCE_CATALOG: /);
    expect(parseCatalog({ sku_a: { name: ' A ', unit_amount: 1, currency: 'EUR' } })).toEqual({ sku_a: { name: 'A', unit_amount: 1, currency: 'eur' } });
  });

  it('money converts between ISO 4217 minor units and PayPal decimal strings by currency (issue 15: HUF and TWD whole units)', () => {
    expect(toPaypalMoney(6250, 'usd')).toEqual({ ok: true, money: { currency_code: 'USD', value: '62.50' } });
    expect(toPaypalMoney(5, 'eur')).toEqual({ ok: true, money: { currency_code: 'EUR', value: '0.05' } });
    expect(toPaypalMoney(1200, 'jpy')).toEqual({ ok: true, money: { currency_code: 'JPY', value: '1200' } });
    expect(toPaypalMoney(150000, 'huf')).toEqual({ ok: true, money: { currency_code: 'HUF', value: '1500' } });
    expect(toPaypalMoney(150050, 'huf')).toMatchObject({ ok: false });
    expect(toPaypalMoney(45000, 'twd')).toEqual({ ok: true, money: { currency_code: 'TWD', value: '450' } });
    expect(fromPaypalValue('62.50', 'USD')).toBe(6250);
    expect(fromPaypalValue('62.5', 'USD')).toBe(6250);
    expect(fromPaypalValue('1200', 'JPY')).toBe(1200);
    expect(fromPaypalValue('1500', 'HUF')).toBe(150000);
    expect(fromPaypalValue('0.29', 'USD')).toBe(29);
  });

  it('wrong client credentials are a merchant_error naming the variables', async () => {
    fake = await startPaypalFake();
    const backend = new PaypalBackend({ clientId: fake.clientId, clientSecret: 'wrong', apiBase: fake.url, catalog: CATALOG });
    const result = await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, { idempotencyKey: 'k1', attempt: 1, requestId: 'r' });
    expect(result).toMatchObject({ kind: 'failed', code: 'merchant_error' });
    if (result.kind === 'failed') {
      expect(result.message).toContain('PAYPAL_CLIENT_ID');
      expect(result.message).not.toContain('wrong');
    }
    expect(fake.state.orders.size).toBe(0);
  });

  it('an unreachable base URL is unknown with a reason naming the host', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    const backend = new PaypalBackend({ clientId: 'i', clientSecret: 's', apiBase: `http://127.0.0.1:${port}`, catalog: CATALOG, timeoutMs: 1_000 });
    const got = await backend.get('ORDER1');
    expect(got.kind).toBe('unknown');
    if (got.kind === 'unknown') expect(got.reason).toContain(`127.0.0.1:${port}`);
    expect(() => new PaypalBackend({ clientId: '', clientSecret: 's', apiBase: 'http://x', catalog: CATALOG })).toThrow(/PAYPAL_CLIENT_ID/);
  });
});
