// Issue "The merchant is untrusted input", item 5: a store URL's credentials (the userinfo password, and query
// parameters such as ?password=, which node-postgres honours) never appear in doctor, the started log line or
// a reconcile_failed message.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { redact, storeUrlSecrets } from '../src/store/store.js';
import { runCli } from './support/cli-process.js';
import { startServer, type RunningServer } from './support/server-process.js';

const SECRET = 'Sup3rS3cretValue';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('store URL credentials (issue item 5)', () => {
  it.each([
    `postgres://once:${SECRET}@db.internal:5432/once`,
    `postgres://once@db.internal/once?password=${SECRET}`,
    `postgres://once@db.internal/once?sslmode=require&sslpassword=${SECRET}`,
    `postgres://once@db.internal/once?sslkey=/keys/${SECRET}.pem&application_name=x`,
    `postgresql://once@db.internal/once?PASSWD=${SECRET}`,
    `redis://:${SECRET}@cache:6379/0`,
    `rediss://default@cache:6379/0?auth_token=${SECRET}`,
    `redis://cache/0?api_key=${SECRET}&secret=${SECRET}&credentials=${SECRET}&pass=${SECRET}&token=${SECRET}`,
    `postgres://once@db.internal/once?password=${encodeURIComponent(SECRET + ' &=/')}`,
  ])('redact masks every credential part of %s', (url) => {
    const shown = redact(url);
    expect(shown).not.toContain(SECRET);
    expect(shown).toContain('***');
    for (const secret of storeUrlSecrets(url)) expect(secret).toContain(SECRET);
  });

  it('redact keeps what an operator needs: host, database, user and harmless parameters', () => {
    expect(redact(`postgres://once:${SECRET}@db.internal:5432/once?sslmode=require&password=${SECRET}`)).toBe(
      'postgres://once:***@db.internal:5432/once?sslmode=require&password=***',
    );
    expect(redact('redis://cache:6379/3')).toBe('redis://cache:6379/3');
  });

  it('doctor never prints a password given as ?password= (ok store or failing store)', async () => {
    const port = await closedPort();
    for (const args of [['doctor'], ['doctor', '--json']]) {
      const run = await runCli(args, { ONCE_STORE: `postgres://once@127.0.0.1:${port}/once?password=${SECRET}&sslmode=disable` });
      expect(run.stdout + run.stderr).toContain('password=***');
      expect(run.stdout + run.stderr).not.toContain(SECRET);
    }
  });

  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('neither the started log line nor reconcile_failed shows ?password= or sslpassword=', async () => {
    const port = await closedPort();
    server = await startServer({ ONCE_STORE: `postgres://once@127.0.0.1:${port}/once?password=${SECRET}&sslpassword=${SECRET}` });
    const log = () => server!.stderr.join('');
    const deadline = Date.now() + 10_000;
    while (!log().includes('reconcile_failed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(log()).toMatch(/"event":"started"/);
    expect(log()).toMatch(/"event":"reconcile_failed"/);
    expect(log()).not.toContain(SECRET);
  });
});
