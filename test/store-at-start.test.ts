// Issue 16, case 4: a store that cannot work stops start-up in one line naming ONCE_STORE and the fix, fast;
// a store that is only down for now lets the server start, its calls answer store_unavailable (retryable, with
// the cause), and they succeed once it is back. R9: nothing is sent while the store cannot be used.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startStoreCut, type StoreCut } from '../src/chaos/store-cut.js';
import { ADDRESS, BIN, startServer, structured, tempDir, type RunningServer } from './support/server-process.js';
import { freshPostgresDatabase, POSTGRES_URL, postgresAvailable, REDIS_URL, redisAvailable } from './support/services.js';

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

interface Start {
  status: number | null;
  stderr: string;
  ms: number;
}

/** Starts the server as a client would (stdin open) and waits for it to exit on its own, or gives up. */
function startAndWait(env: Record<string, string>, giveUpMs = 8_000): Promise<Start> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN], { env: { PATH: process.env.PATH ?? '', HOME: tempDir('once-start-'), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), giveUpMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr, ms: performance.now() - started });
    });
  });
}

function expectRefused(run: Start, cause: RegExp, fix: RegExp) {
  expect(run.status, run.stderr).toBe(78);
  expect(run.ms).toBeLessThan(5_000);
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^once-checkout: ONCE_STORE: /);
  expect(lines[0]).toMatch(cause);
  expect(lines[0]).toMatch(fix);
}

const CART = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };

describe('issue 16 case 4: a store that can never work refuses to start, in one line, in under 5 s', () => {
  it('an SQLite path under a file (its directory cannot exist)', async () => {
    const file = join(tempDir('once-start-'), 'a-file');
    writeFileSync(file, '');
    expectRefused(await startAndWait({ ONCE_STORE: `sqlite://${file}/ledger.db` }), /the path cannot hold a database file/, /Fix: set ONCE_STORE to sqlite:\/\/\/absolute\/path\.db in a directory that exists/);
  });

  it('an SQLite path that is a directory', async () => {
    const dir = join(tempDir('once-start-'), 'ledger.db');
    mkdirSync(dir);
    expectRefused(await startAndWait({ ONCE_STORE: `sqlite://${dir}` }), /cannot be used: the path cannot hold a database file \(SQLITE_CANTOPEN/, /Fix: /);
  });

  it('an SQLite file that is not a database', async () => {
    const file = join(tempDir('once-start-'), 'notes.db');
    writeFileSync(file, 'these are my notes, not a ledger '.repeat(20));
    expectRefused(await startAndWait({ ONCE_STORE: `sqlite://${file}` }), /not a usable SQLite database/, /Fix: .* is not a once-checkout ledger/);
  });

  it.runIf(pgUp)('a PostgreSQL database that does not exist', async () => {
    const url = new URL(POSTGRES_URL);
    url.pathname = '/once_no_such_database';
    expectRefused(await startAndWait({ ONCE_STORE: url.toString() }), /the database does not exist/, /Fix: create the database \(createdb once_no_such_database\)/);
  });

  it.runIf(pgUp)('a PostgreSQL user the server refuses (authentication), the password never printed', async () => {
    const url = new URL(POSTGRES_URL);
    url.username = 'once_nobody';
    url.password = 'hunter2-secret';
    const run = await startAndWait({ ONCE_STORE: url.toString() });
    expectRefused(run, /the store refused the user or password/, /Fix: correct the user and password in ONCE_STORE/);
    expect(run.stderr).not.toContain('hunter2-secret');
  });

  it.runIf(redisUp)('a Redis that keeps nothing across a restart (no persistence where the ledger needs it), or a database it does not have', async () => {
    const { createClient } = await import('@keyv/redis');
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const settings = { ...(await client.configGet('appendonly')), ...(await client.configGet('save')) } as Record<string, string>;
    await client.close();
    if (settings.appendonly === 'no' && settings.save === '') {
      expectRefused(await startAndWait({ ONCE_STORE: `${REDIS_URL}/14` }), /keeps nothing across a restart/, /Fix: turn on AOF/);
    }
    expectRefused(await startAndWait({ ONCE_STORE: `${REDIS_URL}/999` }), /the database does not exist/, /Fix: use a database number the Redis server has/);
  });

  it('--store names the flag, not ONCE_STORE (issue 16 case 8)', async () => {
    const file = join(tempDir('once-start-'), 'a-file');
    writeFileSync(file, '');
    const run = await new Promise<Start>((resolve) => {
      const started = performance.now();
      const child = spawn(process.execPath, [BIN, '--store', `sqlite://${file}/x.db`], { env: { PATH: process.env.PATH ?? '', HOME: tempDir('once-start-') } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stderr, ms: performance.now() - started }));
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/^once-checkout: --store: sqlite:\/\/.* cannot be used: .*Fix: set --store to/);
  });
});

describe.runIf(pgUp)('issue 16 case 4: a store that is down only for now (R9)', () => {
  const servers: RunningServer[] = [];
  const cuts: StoreCut[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})));
    await Promise.all(cuts.splice(0).map((c) => c.close()));
  });

  it('R9: the server starts, the first calls say store_unavailable (retryable, cause unreachable) and send nothing; once the store is back after 3 s the next calls succeed', async () => {
    const cut = await startStoreCut(await freshPostgresDatabase('once_store_back'));
    cuts.push(cut);
    const outage = cut.outage(3_000); // the relay refuses every connection for 3 s from now
    const started = performance.now();
    const server = await startServer({ ONCE_STORE: cut.url });
    servers.push(server);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(server.stderr.join('')).toMatch(/"event":"store_unavailable".*"cause":"unreachable"/);

    const first = await server.call('create_checkout', CART);
    expect(first.isError).toBe(true);
    expect(structured(first).error).toMatchObject({ code: 'store_unavailable', retryable: true, cause: 'unreachable' });
    expect(structured(first).error?.message).toMatch(/sent nothing to the merchant; call create_checkout again with the same arguments in a few seconds/);

    await outage;
    const next = await server.call('create_checkout', CART);
    expect(next.isError, JSON.stringify(next.structuredContent)).toBeFalsy();
    expect(structured(next).checkout?.status).toBe('ready_for_payment');
    expect(structured(next).idempotency).toMatchObject({ replayed: false, attempt: 1 });
  });

  it('R9: a store that turns permanent while running (its database dropped) answers store_unavailable with retryable false and says who must fix it', async () => {
    const url = await freshPostgresDatabase('once_store_dropped');
    const server = await startServer({ ONCE_STORE: url });
    servers.push(server);
    const ok = await server.call('create_checkout', CART);
    expect(ok.isError).toBeFalsy();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
    await admin.end();
    const refused = await server.call('create_checkout', { ...CART, task_id: 'second' });
    expect(structured(refused).error).toMatchObject({ code: 'store_unavailable', retryable: false, cause: 'missing_database' });
    expect(structured(refused).error?.message).toMatch(/calling again cannot fix: stop, and tell the person that the once-checkout operator must fix ONCE_STORE/);
  });
});
