// Issue 16, case 8: the smaller first-hour mistakes on the command line are caught and said plainly: one exit
// code for every configuration error, flags named as typed, `ledger` alone shows its usage, and a server run
// by hand in a terminal says what it waits for.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { BIN, tempDir } from './support/server-process.js';

const EX_CONFIG = 78;

function catalogMissing(): string {
  return join(tempDir('once-cli-'), 'missing-catalog.json');
}

function badCatalog(): string {
  const path = join(tempDir('once-cli-'), 'catalog.json');
  writeFileSync(path, '{ not json');
  return path;
}

describe('issue 16 case 8: every configuration error exits 78 (EX_CONFIG) in one line naming what to fix', () => {
  it.each<[string, Record<string, string>, string[]]>([
    ['ONCE_STORE', { ONCE_STORE: 'mysql://db/x' }, []],
    ['ONCE_BACKEND', { ONCE_BACKEND: 'square' }, []],
    ['ONCE_PRINCIPAL', { ONCE_PRINCIPAL: 'has spaces' }, []],
    ['ONCE_TTL', { ONCE_TTL: 'soon' }, []],
    ['ONCE_DEDUP_WINDOW', { ONCE_DEDUP_WINDOW: 'soon' }, []],
    ['ONCE_MAX_ORDER_AMOUNT', { ONCE_MAX_ORDER_AMOUNT: '-5' }, []],
    ['ONCE_RATE_LIMIT', { ONCE_RATE_LIMIT: 'fast' }, []],
    ['ONCE_LOG', { ONCE_LOG: 'loud' }, []],
    ['ONCE_HTTP_MAX_SESSIONS', { ONCE_HTTP_MAX_SESSIONS: 'many' }, []],
    ['ONCE_NOT_A_SETTING', { ONCE_NOT_A_SETTING: '1' }, []],
    ['ONCE_SANDBOX_FAULTS', { ONCE_SANDBOX_FAULTS: 'explode:2' }, []],
    ['ONCE_SANDBOX_SEED', { ONCE_SANDBOX_SEED: 'abc' }, []],
    ['STRIPE_SECRET_KEY', { ONCE_BACKEND: 'stripe' }, []],
    ['STRIPE_SECRET_KEY', { ONCE_BACKEND: 'stripe', STRIPE_SECRET_KEY: 'pk_test_123' }, []],
    ['PAYPAL_CLIENT_ID', { ONCE_BACKEND: 'paypal' }, []],
    ['ONCE_CATALOG', { ONCE_BACKEND: 'paypal', PAYPAL_CLIENT_ID: 'id', PAYPAL_CLIENT_SECRET: 's', ONCE_CATALOG: 'MISSING' }, []],
    ['ONCE_CATALOG', { ONCE_BACKEND: 'paypal', PAYPAL_CLIENT_ID: 'id', PAYPAL_CLIENT_SECRET: 's', ONCE_CATALOG: 'BAD' }, []],
    ['ACP_API_KEY', { ONCE_BACKEND: 'acp', ACP_BASE_URL: 'http://127.0.0.1:9/acp' }, []],
    ['ONCE_HTTP_TOKENS', {}, ['serve', '--http', '0']],
    ['--http', {}, ['serve', '--http', 'nowhere']],
    ['--store', {}, ['--store', 'mysql://x']],
    ['--ttl', {}, ['serve', '--ttl', 'soon']],
  ])('%s', (name, env, args) => {
    const resolved = { ...env };
    if (resolved.ONCE_CATALOG === 'MISSING') resolved.ONCE_CATALOG = catalogMissing();
    if (resolved.ONCE_CATALOG === 'BAD') resolved.ONCE_CATALOG = badCatalog();
    const run = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: tempDir('once-cli-'), ...resolved }, encoding: 'utf8', input: '', timeout: 20_000 });
    expect(run.status, run.stderr).toBe(EX_CONFIG);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(new RegExp(`^once-checkout: ${name}[: ]`));
  });

  it('--store mysql://x is reported as --store (the flag typed), not ONCE_STORE, by the server and by doctor', async () => {
    const serve = await runCli(['--store', 'mysql://x'], {});
    expect(serve.stderr.trim()).toBe(
      'once-checkout: --store: the scheme "mysql:" is not a known store. Use sqlite:///absolute/path.db, postgres://user@host:5432/db, redis://host:6379/0, or memory:// (tests only)',
    );
    const doctor = await runCli(['doctor', '--store=mysql://x'], { HOME: tempDir('once-cli-') });
    expect(doctor.stdout).toMatch(/^FAIL {2}store url {2}--store: the scheme "mysql:" is not a known store/m);
    expect(doctor.stdout).not.toContain('ONCE_STORE');
  });
});

describe('first hour: a port already in use', () => {
  it('once-checkout merchant on a port in use says so in one line with the fix and exits 78, as serve --http does', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const run = await runCli(['merchant', '--port', String(port), '--store', 'memory://'], {});
      expect(run.status).toBe(EX_CONFIG);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(run.stderr).toMatch(/Pick another port/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('issue 16 case 8: usage and terminals', () => {
  it('once-checkout ledger alone prints the ledger usage (not "" is not a ledger command), exit 2', async () => {
    const run = await runCli(['ledger'], {});
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^once-checkout ledger: read the ledger/);
    expect(run.stderr).toMatch(/once-checkout ledger list \[--status/);
    expect(run.stderr).not.toMatch(/is not a ledger command/);
  });

  it('run by hand in a terminal (stdin is a TTY), the server says on stderr that it waits for an MCP client and how to register it', async () => {
    const home = tempDir('once-cli-');
    // `script` gives the server a pseudo-terminal, as a person's shell would.
    const child = spawn('script', ['-qfec', `${process.execPath} ${BIN}`, '/dev/null'], { env: { PATH: process.env.PATH, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    try {
      await expect.poll(() => seen, { timeout: 15_000, interval: 100 }).toMatch(/waits for an MCP client/);
    } finally {
      child.kill('SIGKILL');
    }
    expect(seen).toMatch(/once-checkout is an MCP server: it now waits for an MCP client on stdin\/stdout/);
    expect(seen).toMatch(/claude mcp add once-checkout -- once-checkout/);
  });

  it('spawned by a client (stdin is a pipe), it prints no such notice: stderr keeps to the JSON log', async () => {
    const run = spawnSync(process.execPath, [BIN], { env: { PATH: process.env.PATH, HOME: tempDir('once-cli-') }, input: '', encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).not.toMatch(/waits for an MCP client/);
    for (const line of run.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});
