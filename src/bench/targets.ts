// The stores under test: each opened on a scratch place of its own (a temp file, a fresh database, an empty
// Redis database), filled in bulk outside the timed part, and removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import { openMemoryStore } from '../store/memory.js';
import { openPostgresStore } from '../store/postgres.js';
import { openRedisStore } from '../store/redis.js';
import { openSqliteStore } from '../store/sqlite.js';
import { redact, type Store } from '../store/store.js';

export type StoreName = 'sqlite' | 'postgres' | 'redis' | 'memory';
export const STORE_NAMES: StoreName[] = ['sqlite', 'postgres', 'redis', 'memory'];

export interface Target {
  name: StoreName;
  /** What the report shows: the URL without credentials, or the temp file. */
  where: string;
  /** ONCE_STORE for another process (the crash demo); undefined for memory. */
  url?: string;
  store: Store;
  /** Adds settled filler records numbered [from, to) under rec:, in bulk. */
  fill(from: number, to: number): Promise<void>;
  dispose(): Promise<void>;
}

/** A settled record of realistic size, for the scale rows. */
const FILLER = JSON.stringify({
  value: {
    v: 1,
    operation: 'create',
    backend: 'bench',
    fingerprint: 'f'.repeat(64),
    attempt: 1,
    fence: 1,
    outbound_key: `oc_${'0'.repeat(32)}`,
    expires_at: 4_102_444_800_000,
    state: { status: 'succeeded', result: { id: 'chk_filler', status: 'ready_for_payment', total: 4200 } },
  },
});
const CHUNK = 100_000;

async function chunked(from: number, to: number, work: (a: number, b: number) => Promise<unknown>): Promise<void> {
  for (let a = from; a < to; a += CHUNK) await work(a, Math.min(a + CHUNK, to));
}

export async function openTarget(name: StoreName, urls: { postgres: string; redis: string }): Promise<Target> {
  switch (name) {
    case 'memory':
      return openMemoryTarget();
    case 'sqlite':
      return openSqliteTarget();
    case 'postgres':
      return openPostgresTarget(urls.postgres);
    case 'redis':
      return openRedisTarget(urls.redis);
  }
}

function openMemoryTarget(): Target {
  const store = openMemoryStore();
  return {
    name: 'memory',
    where: 'memory://',
    store,
    fill: (from, to) =>
      chunked(from, to, async (a, b) => {
        const value = JSON.parse(FILLER).value;
        for (let i = a; i < b; i += 1_000) {
          await Promise.all(Array.from({ length: Math.min(1_000, b - i) }, (_, j) => store.put(`rec:fill-${i + j}`, value)));
        }
      }),
    dispose: () => store.close(),
  };
}

/** A temp SQLite file, filled through a connection of its own; the directory is removed at the end. */
async function openSqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'once-bench-'));
  const path = join(dir, 'ledger.db');
  const store = await openSqliteStore(path);
  await store.get('warm-up'); // the table exists from here on
  const raw = new KeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: 10_000 });
  const query = raw.query.bind(raw) as unknown as (sql: string, ...params: unknown[]) => Promise<unknown>;
  await query('PRAGMA cache_size = -262144'); // 256 MiB for the bulk fill's own connection
  return {
    name: 'sqlite',
    where: `sqlite://${path} (temp file, WAL)`,
    url: `sqlite://${path}`,
    store,
    fill: (from, to) =>
      chunked(from, to, (a, b) =>
        query(
          `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
           INSERT INTO keyv (key, value) SELECT 'once:rec:' || lower(hex(randomblob(32))) AS k, ? FROM n ORDER BY k`,
          a,
          b - 1,
          FILLER,
        ),
      ),
    async dispose() {
      await store.close();
      await raw.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the server `serverUrl` names, dropped at the end. */
async function openPostgresTarget(serverUrl: string): Promise<Target> {
  const database = `once_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const store = await openPostgresStore(url.toString());
  await store.get('warm-up'); // creates the table
  const raw = new pg.Client({ connectionString: url.toString() });
  await raw.connect();
  return {
    name: 'postgres',
    where: `${redact(url.toString())} (fresh database, dropped at the end)`,
    url: url.toString(),
    store,
    fill: (from, to) =>
      chunked(from, to, (a, b) =>
        raw.query(
          `INSERT INTO once_checkout (key, value)
           SELECT 'once:rec:' || md5(i::text) || md5((-i)::text) AS k, $3 FROM generate_series($1::int, $2::int) AS i ORDER BY k`,
          [a, b - 1, FILLER],
        ),
      ),
    async dispose() {
      await store.close();
      await raw.end();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => cleanup.end());
    },
  };
}

/** The Redis database `url` names, which must be empty; emptied again at the end. */
async function openRedisTarget(url: string): Promise<Target> {
  const raw = createClient({ url, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  raw.on('error', () => {});
  await raw.connect();
  const keys = await raw.dbSize();
  if (keys !== 0) {
    await raw.close();
    throw new Error(`the Redis database ${redact(url)} holds ${keys} keys; the benchmark needs an empty one (pick another with --redis redis://host:6379/N)`);
  }
  const store = await openRedisStore(url);
  return {
    name: 'redis',
    where: `${redact(url)} (empty database, emptied again at the end)`,
    url,
    store,
    fill: (from, to) =>
      chunked(from, to, (a, b) =>
        raw.eval(
          `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
             redis.call('SET', 'once:rec:' .. i .. ARGV[4], ARGV[3])
           end`,
          { arguments: [String(a), String(b - 1), FILLER, `:${'f'.repeat(56)}`] }, // keys as long as real ones
        ),
      ),
    async dispose() {
      await store.close();
      await raw.flushDb();
      await raw.close();
    },
  };
}
