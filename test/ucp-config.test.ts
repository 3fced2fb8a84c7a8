// Issue 14: bad UCP configuration is one clear line, at start-up and in doctor: UCP_AGENT_PROFILE missing, two
// endpoint settings at once, an unreachable endpoint, a /.well-known/ucp without a checkout service. And a good
// one: doctor on UCP_BUSINESS_URL discovers the reference merchant's endpoint and passes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { readUcpConfig } from '../src/backends/ucp/ucp-config.js';
import { checkoutService } from '../src/backends/ucp/ucp-discovery.js';
import { openMemoryStore } from '../src/store/memory.js';
import { runCli } from './support/cli-process.js';
import { closedPort } from './support/ports.js';
import { tempDir } from './support/server-process.js';

const PROFILE = 'https://agent.example/profiles/once-checkout.json';

interface Report {
  checks: Array<{ name: string; status: string; detail: string }>;
}

/** Start-up with `env`: the exit code and what it wrote (one line on a configuration mistake). */
async function startUp(env: Record<string, string>) {
  const run = await runCli(['serve'], { ONCE_STORE: `sqlite://${join(tempDir('once-ucp-cfg-'), 'l.db')}`, ONCE_BACKEND: 'ucp', ...env });
  return { status: run.status, lines: run.stderr.trim().split('\n') };
}

async function doctor(env: Record<string, string>) {
  const run = await runCli(['doctor', '--json'], { ONCE_STORE: `sqlite://${join(tempDir('once-ucp-doc-'), 'l.db')}`, ONCE_BACKEND: 'ucp', ...env });
  const report = JSON.parse(run.stdout) as Report;
  return { status: run.status, check: Object.fromEntries(report.checks.map((c) => [c.name, c])) };
}

describe('UCP configuration (issue 14)', () => {
  let merchant: MerchantServer;
  let noCheckout: Server;
  let noCheckoutUrl = '';

  beforeAll(async () => {
    merchant = await serveMerchant({ port: 0, store: openMemoryStore() });
    // A business whose profile offers catalog only, no checkout.
    noCheckout = createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ucp: { version: '2026-04-08', services: { 'dev.ucp.shopping': [{ version: '2026-04-08', transport: 'rest', endpoint: 'http://127.0.0.1:1/ucp' }] }, capabilities: { 'dev.ucp.shopping.catalog': [{ version: '2026-04-08' }] }, payment_handlers: {} } }));
    });
    await new Promise<void>((resolve) => noCheckout.listen(0, '127.0.0.1', resolve));
    noCheckoutUrl = `http://127.0.0.1:${(noCheckout.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await merchant?.close();
    await new Promise<void>((resolve) => noCheckout.close(() => resolve()));
  });

  it('issue 14: each mistake in the settings is one line naming the variable and the fix', () => {
    expect(() => readUcpConfig({ UCP_BASE_URL: 'https://shop.example/ucp' })).toThrow(/^UCP_AGENT_PROFILE: is not set\. Set it to the URL of your platform's UCP profile/);
    expect(() => readUcpConfig({ UCP_AGENT_PROFILE: PROFILE })).toThrow(/^UCP_BASE_URL: no UCP business is configured .*\. Set exactly one: UCP_MCP_URL/);
    expect(() => readUcpConfig({ UCP_MCP_URL: 'https://a.example/mcp', UCP_BASE_URL: 'https://a.example/ucp', UCP_AGENT_PROFILE: PROFILE })).toThrow(
      /^UCP_MCP_URL and UCP_BASE_URL: are both set, so the business to use is ambiguous\. Set exactly one/,
    );
    expect(() => readUcpConfig({ UCP_BUSINESS_URL: 'https://a.example/shop', UCP_AGENT_PROFILE: PROFILE })).toThrow(/^UCP_BUSINESS_URL: must be the business's origin/);
    expect(() => readUcpConfig({ UCP_BASE_URL: 'https://user:pw@a.example/ucp', UCP_AGENT_PROFILE: PROFILE })).toThrow(/^UCP_BASE_URL: must not carry credentials/);
    expect(() => readUcpConfig({ UCP_BASE_URL: 'ftp://a.example/ucp', UCP_AGENT_PROFILE: PROFILE })).toThrow(/^UCP_BASE_URL: must be http or https/);
    expect(() => readUcpConfig({ UCP_BASE_URL: 'https://a.example/ucp', UCP_AGENT_PROFILE: 'agent' })).toThrow(/^UCP_AGENT_PROFILE: "agent" is not an http\(s\) URL/);
    expect(() => readUcpConfig({ UCP_BASE_URL: 'https://a.example/ucp', UCP_AGENT_PROFILE: PROFILE, UCP_API_KEY: 'Bearer x' })).toThrow(/^UCP_API_KEY: contains whitespace/);
    expect(() => readUcpConfig({ UCP_BASE_URL: 'https://a.example/ucp', UCP_AGENT_PROFILE: PROFILE, UCP_TIMEOUT: 'soon' })).toThrow(/^UCP_TIMEOUT: "soon" is not a duration/);
    expect(readUcpConfig({ UCP_MCP_URL: 'https://a.example/ucp/mcp', UCP_AGENT_PROFILE: PROFILE })).toMatchObject({ where: { kind: 'endpoint', transport: 'mcp' }, agentProfile: PROFILE, timeoutMs: 15_000, completeWaitMs: 10_000 });
  });

  it('issue 14: a profile without a checkout service, or with a downgraded endpoint, is refused by name', () => {
    const at = 'https://shop.example/.well-known/ucp';
    const origin = new URL('https://shop.example');
    expect(() => checkoutService({}, at, origin)).toThrow(/^UCP_BUSINESS_URL: https:\/\/shop\.example\/\.well-known\/ucp is not a UCP profile/);
    expect(() => checkoutService({ ucp: { capabilities: {} } }, at, origin)).toThrow(/offers no checkout service \(no dev\.ucp\.shopping\.checkout capability\)/);
    const checkout = { 'dev.ucp.shopping.checkout': [{ version: '2026-04-08' }] };
    expect(() => checkoutService({ ucp: { capabilities: checkout, services: { 'dev.ucp.shopping': [{ transport: 'a2a', endpoint: 'https://x' }] } } }, at, origin)).toThrow(/no dev\.ucp\.shopping service over rest or mcp/);
    expect(() => checkoutService({ ucp: { capabilities: checkout, services: { 'dev.ucp.shopping': [{ transport: 'rest', endpoint: 'http://shop.example/ucp' }] } } }, at, origin)).toThrow(/plain-http endpoint/);
    const both = { 'dev.ucp.shopping': [{ transport: 'mcp', endpoint: 'https://shop.example/mcp' }, { transport: 'rest', endpoint: 'https://shop.example/ucp' }] };
    expect(checkoutService({ ucp: { capabilities: checkout, services: both } }, at, origin)).toMatchObject({ transport: 'rest', discoveredAt: at });
  });

  const cases: Array<{ name: string; env: () => Promise<Record<string, string>>; line: RegExp; doctorCheck: string }> = [
    { name: 'a missing UCP_AGENT_PROFILE', env: async () => ({ UCP_BASE_URL: `${merchant.url}/ucp` }), line: /^once-checkout: UCP_AGENT_PROFILE: is not set\. /, doctorCheck: 'backend' },
    {
      name: 'two endpoint settings at once',
      env: async () => ({ UCP_BASE_URL: `${merchant.url}/ucp`, UCP_MCP_URL: `${merchant.url}/ucp/mcp`, UCP_AGENT_PROFILE: PROFILE }),
      line: /^once-checkout: UCP_MCP_URL and UCP_BASE_URL: are both set, so the business to use is ambiguous\. /,
      doctorCheck: 'backend',
    },
    {
      name: 'an unreachable endpoint',
      env: async () => ({ UCP_MCP_URL: `http://127.0.0.1:${await closedPort()}/ucp/mcp`, UCP_AGENT_PROFILE: PROFILE }),
      line: /^once-checkout: UCP_MCP_URL: http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)\. Check UCP_MCP_URL/,
      doctorCheck: 'reachable',
    },
    {
      name: 'an unreachable business (discovery)',
      env: async () => ({ UCP_BUSINESS_URL: `http://127.0.0.1:${await closedPort()}`, UCP_AGENT_PROFILE: PROFILE }),
      line: /^once-checkout: UCP_BUSINESS_URL: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/ucp cannot be read \(ECONNREFUSED\)\. Check UCP_BUSINESS_URL/,
      doctorCheck: 'backend',
    },
    {
      name: 'a /.well-known/ucp without a checkout service',
      env: async () => ({ UCP_BUSINESS_URL: noCheckoutUrl, UCP_AGENT_PROFILE: PROFILE }),
      line: /^once-checkout: UCP_BUSINESS_URL: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/ucp offers no checkout service \(no dev\.ucp\.shopping\.checkout capability\)\. /,
      doctorCheck: 'backend',
    },
  ];

  for (const { name, env, line, doctorCheck } of cases) {
    it(`issue 14: ${name}: one line at start-up (exit 78) and a FAIL line in doctor`, async () => {
      const settings = await env();
      const started = await startUp(settings);
      expect(started.status).toBe(78);
      expect(started.lines).toHaveLength(1);
      expect(started.lines[0]).toMatch(line);
      const checked = await doctor(settings);
      expect(checked.status).toBe(1);
      expect(checked.check[doctorCheck].status).toBe('fail');
      expect(`once-checkout: ${checked.check[doctorCheck].detail}`).toMatch(line);
    });
  }

  it('issue 14: doctor on UCP_BUSINESS_URL discovers the reference merchant and passes every check', async () => {
    const checked = await doctor({ UCP_BUSINESS_URL: merchant.url, UCP_AGENT_PROFILE: PROFILE });
    expect(checked.status).toBe(0);
    expect(checked.check.backend.detail).toBe(`ucp settings are complete (merchant ucp:${merchant.url}/ucp)`);
    expect(checked.check.retention.detail).toMatch(/^record TTL 23h \(default\) is below the provider's 24h \(UCP businesses keep idempotency keys for at least 24 h/);
    expect(checked.check.reachable).toMatchObject({ status: 'ok', detail: `${merchant.url} answers (UCP_BUSINESS_URL)` });
  });
});
