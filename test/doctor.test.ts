// `once-checkout doctor` on the built CLI: one line per check, a fix for each failure, exit 1 on any failure,
// and every problem reported (not only the first).
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/server-process.js';

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: 'ok' | 'warn' | 'fail' | 'skip'; detail: string }>;
}

const sqlite = () => `sqlite://${join(tempDir('once-doctor-'), 'ledger.db')}`;

async function doctor(env: Record<string, string>) {
  const text = await runCli(['doctor'], env);
  const json = await runCli(['doctor', '--json'], env);
  const report = JSON.parse(json.stdout) as Report;
  const status = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
  const detail = Object.fromEntries(report.checks.map((c) => [c.name, c.detail]));
  return { text, report, status, detail };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let acpMerchant: Server;
let acpUrl = '';
beforeAll(async () => {
  // Doctor only needs something to answer on the ACP port.
  acpMerchant = createServer((_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => acpMerchant.listen(0, '127.0.0.1', resolve));
  acpUrl = `http://127.0.0.1:${(acpMerchant.address() as AddressInfo).port}/acp`;
});
afterAll(() => new Promise<void>((resolve) => acpMerchant.close(() => resolve())));

describe('doctor', () => {
  it('a good sandbox setup: every check ok, one line each, exit 0', async () => {
    const { text, status, detail } = await doctor({ ONCE_STORE: sqlite() });
    expect(text.status).toBe(0);
    expect(status).toEqual({ config: 'ok', 'store url': 'ok', store: 'ok', backend: 'ok', retention: 'ok', reachable: 'ok' });
    expect(detail.store).toMatch(/\(table keyv\): 0 ledger record\(s\)/);
    expect(detail.retention).toMatch(/record TTL 23h \(default\) is below the provider's 24h/);
    expect(text.stdout.trim().split('\n')).toHaveLength(7);
    expect(text.stdout).toMatch(/^ok {4}reachable {2}sandbox merchant answers/m);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('All checks passed.');
  });

  it('an ACP merchant that answers passes every check', async () => {
    const { text, status } = await doctor({ ONCE_STORE: sqlite(), ONCE_BACKEND: 'acp', ACP_BASE_URL: acpUrl, ACP_API_KEY: 'test-key' });
    expect(status.reachable).toBe('ok');
    expect(text.status).toBe(0);
    expect(text.stdout).not.toContain('test-key');
  });

  it('R9: an unreachable store fails with the fix', async () => {
    const port = await closedPort();
    const { text, status, detail } = await doctor({ ONCE_STORE: `postgres://once:hunter2@127.0.0.1:${port}/once` });
    expect(text.status).toBe(1);
    expect(status.store).toBe('fail');
    expect(detail.store).toMatch(/ECONNREFUSED.*Fix: make sure the postgres server in ONCE_STORE is running/);
    expect(text.stdout).not.toContain('hunter2');
    // The rest is still checked.
    expect(status.backend).toBe('ok');
    expect(status.reachable).toBe('ok');
  });

  it('an unusable SQLite path (its directory is a file) fails the store check', async () => {
    const file = join(tempDir('once-doctor-'), 'a-file');
    writeFileSync(file, '');
    const { status, detail } = await doctor({ ONCE_STORE: `sqlite://${file}/ledger.db` });
    expect(status.store).toBe('fail');
    expect(detail.store).toContain(`Fix: make sure the directory of ${file}/ledger.db exists and is writable`);
  });

  it('a bad store URL fails "store url" and skips the store, and the other checks still run', async () => {
    const { text, status, detail } = await doctor({ ONCE_STORE: 'mysql://db/once' });
    expect(text.status).toBe(1);
    expect(status).toMatchObject({ 'store url': 'fail', store: 'skip', config: 'ok', backend: 'ok', retention: 'ok' });
    expect(detail['store url']).toMatch(/^ONCE_STORE: the scheme "mysql:" is not a known store\. Use sqlite:\/\/\//);
  });

  it('R8: a TTL at or above the provider retention fails the retention check with the fix', async () => {
    const { text, status, detail } = await doctor({ ONCE_STORE: sqlite(), ONCE_TTL: '25h' });
    expect(text.status).toBe(1);
    expect(status.retention).toBe('fail');
    expect(detail.retention).toMatch(/^ONCE_TTL: 25h is not below the provider's key retention of 24h.*Set ONCE_TTL below 24h/);
    expect(text.stdout).toMatch(/^FAIL {2}retention {2}ONCE_TTL/m);
  });

  it('R8: PayPal retention follows the declared PAYPAL_REQUEST_ID_RETENTION', async () => {
    const catalog = join(tempDir('once-doctor-'), 'catalog.json');
    writeFileSync(catalog, JSON.stringify({ sku_mug: { name: 'Mug', unit_amount: 1200, currency: 'usd' } }));
    const base = { ONCE_STORE: sqlite(), ONCE_BACKEND: 'paypal', PAYPAL_CLIENT_ID: 'id', PAYPAL_CLIENT_SECRET: 's3cret', PAYPAL_API_BASE: acpUrl.replace('/acp', ''), ONCE_CATALOG: catalog };
    const short = await doctor({ ...base, ONCE_TTL: '23h' });
    expect(short.status.retention).toBe('fail');
    expect(short.detail.retention).toMatch(/key retention of 6h/);
    const declared = await doctor({ ...base, ONCE_TTL: '23h', PAYPAL_REQUEST_ID_RETENTION: '72h' });
    expect(declared.status.retention).toBe('ok');
    expect(declared.text.stdout).not.toContain('s3cret');
  });

  it.each([
    ['stripe', {}, /^STRIPE_SECRET_KEY is not set/],
    ['paypal', { PAYPAL_CLIENT_ID: 'id' }, /^PAYPAL_CLIENT_SECRET is not set/],
    ['acp', { ACP_BASE_URL: 'https://shop.example/acp' }, /^ACP_API_KEY: is not set/],
  ])('missing %s credentials fail the backend check and name the variable', async (backend, env, line) => {
    const { text, status, detail } = await doctor({ ONCE_STORE: sqlite(), ONCE_BACKEND: backend, ...env });
    expect(text.status).toBe(1);
    expect(status).toMatchObject({ backend: 'fail', retention: 'skip', reachable: 'skip', store: 'ok' });
    expect(detail.backend).toMatch(line);
  });

  it('an unreachable backend fails the reachability check with the fix', async () => {
    const port = await closedPort();
    const { text, status, detail } = await doctor({ ONCE_STORE: sqlite(), ONCE_BACKEND: 'acp', ACP_BASE_URL: `http://127.0.0.1:${port}/acp`, ACP_API_KEY: 'k' });
    expect(text.status).toBe(1);
    expect(status).toMatchObject({ backend: 'ok', retention: 'ok', reachable: 'fail' });
    expect(detail.reachable).toMatch(/^ACP_BASE_URL: http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)\. Check ACP_BASE_URL/);
  });

  it('several problems at once are all reported', async () => {
    const { report } = await doctor({ ONCE_STORE: 'mysql://x', ONCE_TTL: '25h', ONCE_BACKEND: 'sandbox' });
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['store url', 'retention']);
  });

  it('a malformed setting fails the config check', async () => {
    const { status, detail } = await doctor({ ONCE_STORE: sqlite(), ONCE_DEDUP_WINDOW: 'soon' });
    expect(status.config).toBe('fail');
    expect(detail.config).toMatch(/^ONCE_DEDUP_WINDOW: "soon" is not a duration/);
  });
});
