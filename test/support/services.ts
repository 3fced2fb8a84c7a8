// Where the tests find PostgreSQL and the ACP spec. Missing on a developer's machine: the suite skips with
// one loud line. Missing under CI=true: a failure, never a skip.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';

export const POSTGRES_URL = process.env.ONCE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ACP_SPEC_DIR = resolve(process.env.ACP_SPEC_DIR ?? resolve(import.meta.dirname, '..', '..', '..', 'shared', 'acp-spec'));
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

export function acpSpecAvailable(): boolean {
  if (existsSync(resolve(ACP_SPEC_DIR, 'spec', '2026-04-17'))) return true;
  const line = `the ACP spec folder ${ACP_SPEC_DIR} is missing: set ACP_SPEC_DIR to a copy of the ACP 2026-04-17 spec to run these tests`;
  if (inCI) throw new Error(`CI=true: ${line}`);
  console.warn(`\n*** SKIPPING: ${line} ***\n`);
  return false;
}

/** A fresh PostgreSQL database for one test file, so files can run in parallel. */
export async function freshPostgresDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
