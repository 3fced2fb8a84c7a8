// Where the tests find PostgreSQL, Redis and the ACP and UCP specs. Missing on a developer's machine: the suite skips with
// one loud line. Missing under CI=true: a failure, never a skip.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient } from '@keyv/redis';
import pg from 'pg';

export const POSTGRES_URL = process.env.ONCE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.ONCE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ACP_SPEC_DIR = resolve(process.env.ACP_SPEC_DIR ?? resolve(import.meta.dirname, '..', '..', '..', 'shared', 'acp-spec'));
export const UCP_SPEC_DIR = resolve(process.env.UCP_SPEC_DIR ?? resolve(import.meta.dirname, '..', '..', '..', 'shared', 'ucp-spec'));
export const inCI = process.env.CI === 'true';

async function reachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** True when PostgreSQL answers; otherwise warns (or throws under CI). */
export async function postgresAvailable(): Promise<boolean> {
  const problem = await reachable(POSTGRES_URL);
  if (problem === undefined) return true;
  const line = `PostgreSQL at ${POSTGRES_URL} is not reachable (${problem}): start it or set ONCE_TEST_POSTGRES_URL to run these tests`;
  if (inCI) throw new Error(`CI=true: ${line}`);
  console.warn(`\n*** SKIPPING: ${line} ***\n`);
  return false;
}

/** A connected Redis client on one database, or the reason there is none. */
async function redisClient(url: string): Promise<ReturnType<typeof createClient> | string> {
  const client = createClient({ url, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    await client.close().catch(() => {});
    return error instanceof Error ? error.message : String(error);
  }
}

/** True when Redis answers; otherwise warns (or throws under CI). */
export async function redisAvailable(): Promise<boolean> {
  const client = await redisClient(REDIS_URL);
  if (typeof client !== 'string') {
    await client.close();
    return true;
  }
  const line = `Redis at ${REDIS_URL} is not reachable (${client}): start it or set ONCE_TEST_REDIS_URL to run these tests`;
  if (inCI) throw new Error(`CI=true: ${line}`);
  console.warn(`\n*** SKIPPING: ${line} ***\n`);
  return false;
}

/** An emptied Redis database (0-15) for one test file, so files can run in parallel: give each its own. */
export async function freshRedisDatabase(db: number): Promise<string> {
  const url = new URL(REDIS_URL);
  url.pathname = `/${db}`;
  const client = await redisClient(url.toString());
  if (typeof client === 'string') throw new Error(`Redis at ${url} is not reachable (${client})`);
  try {
    await client.flushDb();
  } finally {
    await client.close();
  }
  return url.toString();
}

export function acpSpecAvailable(): boolean {
  if (existsSync(resolve(ACP_SPEC_DIR, 'spec', '2026-04-17'))) return true;
  const line = `the ACP spec folder ${ACP_SPEC_DIR} is missing: set ACP_SPEC_DIR to a copy of the ACP 2026-04-17 spec to run these tests`;
  if (inCI) throw new Error(`CI=true: ${line}`);
  console.warn(`\n*** SKIPPING: ${line} ***\n`);
  return false;
}

export function ucpSpecAvailable(): boolean {
  if (existsSync(resolve(UCP_SPEC_DIR, 'source', 'schemas', 'shopping', 'checkout.json'))) return true;
  const line = `the UCP spec folder ${UCP_SPEC_DIR} is missing: set UCP_SPEC_DIR to a copy of the UCP 2026-04-08 release to run these tests`;
  if (inCI) throw new Error(`CI=true: ${line}`);
  console.warn(`\n*** SKIPPING: ${line} ***\n`);
  return false;
}

/** A fresh PostgreSQL database for one test file, so files can run in parallel. */
export async function freshPostgresDatabase(name: string): Promise<string> {
  // Suffixed with this process's pid: two suite runs on one server (two checkouts of the repository) must not
  // drop each other's databases mid-test. Leftovers of runs whose process is gone are dropped here.
  const unique = `${name}_${process.pid}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${name}\\_%`]);
    for (const { datname } of rows) {
      const pid = Number(datname.slice(name.length + 1));
      if (datname !== unique && Number.isInteger(pid) && !processAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
    await admin.query(`DROP DATABASE IF EXISTS ${unique} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${unique}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${unique}`;
  return url.toString();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
