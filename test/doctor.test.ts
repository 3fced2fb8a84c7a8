// `once-checkout doctor` on the built CLI: one line per check, a fix for each failure, exit 1 on any failure,
// and every problem reported (not only the first).
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMerchant } from '../src/backends/sandbox/http.js';
import { openMemoryStore } from '../src/store/memory.js';
import { createClient } from '@keyv/redis';
import { judgePersistence } from '../src/operator/redis-persistence.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/server-process.js';
import { freshRedisDatabase, REDIS_URL, redisAvailable } from './support/services.js';

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
    const path = join(tempDir('once-doctor-'), 'ledger.db');
    await (await openSqliteStore(path)).close(); // the ledger a server made (doctor itself creates none, issue 16)
    const { text, status, detail } = await doctor({ ONCE_STORE: `sqlite://${path}` });
    expect(text.status).toBe(0);
    expect(status).toEqual({ config: 'ok', 'store url': 'ok', store: 'ok', http: 'ok', backend: 'ok', webhooks: 'ok', retention: 'ok', reachable: 'ok', protocol: 'ok', tracing: 'ok', metrics: 'ok' });
    expect(detail.store).toMatch(/\(table keyv\): 0 ledger record\(s\)/);
    expect(detail.retention).toMatch(/record TTL 23h \(default\) is below the provider's 24h/);
    // Issue 13: doctor says which protocol version the backend speaks.
    expect(detail.protocol).toBe('ACP 2026-04-17 in process (the sandbox merchant)');
    // Issue 19: and whether traces and metrics are on, and where they go.
    expect(detail.tracing).toMatch(/^off \(no OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(detail.metrics).toMatch(/^GET \/metrics off \(set ONCE_METRICS_TOKEN for serve --http\); OpenTelemetry metrics off/);
    expect(detail.webhooks).toMatch(/^off: ACP_WEBHOOK_SECRET is not set/);
    expect(text.stdout.trim().split('\n')).toHaveLength(12);
    expect(text.stdout).toMatch(/^ok {4}reachable {2}sandbox merchant answers/m);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('All checks passed.');
  });

  it('an ACP merchant that answers passes every check', async () => {
    const { text, status } = await doctor({ ONCE_STORE: sqlite(), ONCE_BACKEND: 'acp', ACP_BASE_URL: acpUrl, ACP_API_KEY: 'test-key' });
    expect(status.reachable).toBe('ok');
    expect(text.status).toBe(0);
    expect(text.stdout).not.toContain('test-key');
  });

  it('issue 13: against a merchant speaking only 2026-01-30, doctor names the version auto chose and how', async () => {
    const merchant = await serveMerchant({ port: 0, store: openMemoryStore(), versions: ['2026-01-30'] });
    try {
      const { status, detail } = await doctor({ ONCE_STORE: sqlite(), ONCE_BACKEND: 'acp', ACP_MCP_URL: `${merchant.url}/acp/mcp`, ACP_API_KEY: 'test-key' });
      expect(status.protocol).toBe('ok');
      expect(detail.protocol).toMatch(/^ACP 2026-01-30 over MCP http:\/\/127\.0\.0\.1:\d+\/acp\/mcp \(auto: \/\.well-known\/acp\.json lists 2026-01-30; newest we both speak\)$/);
    } finally {
      await merchant.close();
    }
  });

  it('issue 18: the order events line names where merchants send events, and a bad ACP_WEBHOOK_SECRET fails without printing it', async () => {
    const good = await doctor({ ONCE_STORE: sqlite(), ONCE_BACKEND: 'acp', ACP_BASE_URL: acpUrl, ACP_API_KEY: 'test-key', ACP_WEBHOOK_SECRET: 'whsec_0123456789abcdef0123' });
    expect(good.status.webhooks).toBe('ok');
    expect(good.detail.webhooks).toMatch(/receives them at POST \/agentic_checkout\/webhooks\/order_events: 1 secret\(s\) for acp:http/);
    expect(good.text.stdout).not.toContain('whsec_0123456789abcdef0123');
    const bad = await doctor({ ONCE_STORE: sqlite(), ONCE_BACKEND: 'acp', ACP_BASE_URL: acpUrl, ACP_API_KEY: 'test-key', ACP_WEBHOOK_SECRET: 'short secret' });
    expect(bad.text.status).toBe(1);
    expect(bad.detail.webhooks).toMatch(/^ACP_WEBHOOK_SECRET: the value is too short or has spaces/);
    expect(bad.text.stdout).not.toContain('short secret');
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

  it('issue 6: states the HTTP limits in force (sessions per principal and in all, idle close, rates, timeouts)', async () => {
    const { detail } = await doctor({ ONCE_STORE: sqlite(), ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL: '4', ONCE_HTTP_SESSION_IDLE: '5m', ONCE_RATE_LIMIT: '30' });
    expect(detail.http).toBe(
      'serve --http limits: 4 sessions per principal, 256 in all; idle sessions closed after 5 min; 30 session opens and 30 mutating calls per principal per minute; headers within 10 s, whole request within 30 s, bodies up to 1 MB',
    );
  });

  it('issue 19: says where traces and metrics go, never an OTLP header value, and warns when the collector does not answer', async () => {
    const port = await closedPort();
    const { text, status, detail } = await doctor({
      ONCE_STORE: sqlite(),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer otlp-secret-0123456789',
      OTEL_SERVICE_NAME: 'shop-checkout',
      ONCE_METRICS_TOKEN: 'scraper-token-0123456789',
    });
    expect(status.tracing).toBe('warn');
    expect(detail.tracing).toBe(
      `on: otlp http/protobuf to http://127.0.0.1:${port}/v1/traces with 1 header(s) (values not shown), service shop-checkout; nothing answers there now, so traces would be dropped. Check OTEL_EXPORTER_OTLP_ENDPOINT and the collector`,
    );
    expect(detail.metrics).toMatch(/^serve --http answers GET \/metrics to ONCE_METRICS_TOKEN \(1 token\(s\)\); OpenTelemetry metrics on: otlp http\/protobuf to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics/);
    expect(text.stdout).not.toContain('otlp-secret');
    expect(text.stdout).not.toContain('scraper-token');
    expect(text.status).toBe(0); // warnings do not fail
  });

  it('issue 19: a console exporter is on and ok; gRPC and a metrics token shared with a buyer fail with the fix', async () => {
    const on = await doctor({ ONCE_STORE: sqlite(), OTEL_TRACES_EXPORTER: 'console' });
    expect(on.status.tracing).toBe('ok');
    expect(on.detail.tracing).toBe('on: console (printed on stderr), service once-checkout');
    const token = 'shared-token-0123456789';
    const bad = await doctor({ ONCE_STORE: sqlite(), OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', ONCE_HTTP_TOKENS: `${token}=alice`, ONCE_METRICS_TOKEN: token });
    expect(bad.status.tracing).toBe('fail');
    expect(bad.detail.tracing).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported by once-checkout\. .*http\/protobuf/);
    expect(bad.status.metrics).toBe('fail');
    expect(bad.detail.metrics).toMatch(/ONCE_METRICS_TOKEN: token 1 is also in ONCE_HTTP_TOKENS/);
    expect(bad.text.stdout).not.toContain(token);
    expect(bad.text.status).toBe(1);
  });
});

const redisUp = await redisAvailable();

describe('doctor: Redis persistence (the checkout is the unit of truth: a ledger a restart empties is no ledger)', () => {
  it('judges AOF ok, RDB only a warning, neither a failure naming the settings and the fix', () => {
    expect(judgePersistence({ appendonly: 'yes', save: '', appendfsync: 'everysec' }).status).toBe('ok');
    expect(judgePersistence({ appendonly: 'yes', save: '', appendfsync: 'no' }).status).toBe('warn');
    expect(judgePersistence({ appendonly: 'no', save: '3600 1 300 100' })).toMatchObject({ status: 'warn', detail: expect.stringMatching(/RDB snapshots only.*CONFIG SET appendonly yes/) });
    expect(judgePersistence({ appendonly: 'no', save: '' })).toMatchObject({ status: 'fail', detail: expect.stringMatching(/appendonly no, save "".*CONFIG SET appendonly yes.*redis\.conf/) });
  });

  describe.runIf(redisUp)('against the real Redis', () => {
    it('FAILs on a Redis without AOF and without RDB snapshots (the CI Redis runs --save "" --appendonly no), exit 1', async () => {
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      const settings = { ...(await client.configGet('appendonly')), ...(await client.configGet('save')) } as Record<string, string>;
      await client.close();
      const url = await freshRedisDatabase(14);
      const { text, status, detail } = await doctor({ ONCE_STORE: url });
      if (settings.appendonly === 'no' && settings.save === '') {
        expect(status.store).toBe('ok');
        expect(status.persistence).toBe('fail');
        expect(detail.persistence).toMatch(/keeps nothing across a restart \(appendonly no, save ""\).*CONFIG SET appendonly yes/);
        expect(text.status).toBe(1);
        expect(text.stdout).toMatch(/^FAIL {2}persistence {2}/m);
      } else {
        expect(status.persistence).not.toBe('fail'); // a Redis with persistence passes
      }
    });

    it('warns (cannot verify) when CONFIG is refused, as on managed Redis, and never prints the password', async () => {
      const user = `once_doctor_${process.pid}`;
      const password = `pw-${crypto.randomUUID()}`;
      const admin = createClient({ url: REDIS_URL });
      await admin.connect();
      await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-config']);
      try {
        const url = new URL(await freshRedisDatabase(14));
        url.username = user;
        url.password = password;
        const { text, status, detail } = await doctor({ ONCE_STORE: url.toString() });
        expect(status.store).toBe('ok');
        expect(status.persistence).toBe('warn');
        expect(detail.persistence).toMatch(/could not verify .*CONFIG GET appendonly\/save was refused \(NOPERM/);
        expect(text.stdout).not.toContain(password);
      } finally {
        await admin.sendCommand(['ACL', 'DELUSER', user]);
        await admin.close();
      }
    });
  });
});
