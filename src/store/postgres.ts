// postgres://… — on @keyv/postgres. The claim is one statement: INSERT … ON CONFLICT DO NOTHING RETURNING,
// with the existing row read in the same statement; the unique index lets exactly one of any number of
// racing processes insert.
import Keyv from 'keyv';
import KeyvPostgres from '@keyv/postgres';
import pg from 'pg';
import { KeyvStore, keyvJson, likePrefix, type Expected, type NativeSteps } from './keyv-store.js';
import { ENTRIES_PAGE, linkedPair, pagedEntries, valuesInAskedOrder, type Rows } from './sql-store.js';
import { redact } from './store.js';
import { NoLedgerError } from './store-refusal.js';

type Query = (sql: string, values?: unknown[]) => Promise<Rows>;

const TABLE = 'once_checkout';
const STATEMENT_TIMEOUT_MS = 4_000;
const QUERY_TIMEOUT_MS = 5_000;

/** The compare-and-swap's condition on `value`, the expected text being parameter $n (ASCII write id). */
function same(expected: Expected, n: number): string {
  return expected.prefix ? `substr(value, 1, ${expected.text.length}) = $${n}` : `value = $${n}`;
}

/**
 * The adapter with a pool of its own: @keyv/postgres shares one module-wide pool without an `error`
 * listener, so a restarted server would crash the process and two stores would close each other's pool.
 */
class OwnPoolPostgres extends KeyvPostgres {
  declare pool: pg.Pool;

  override async connect() {
    const opts = this.opts as { uri: string; readOnly?: boolean };
    // A silent server (stalled, partitioned, a lock held elsewhere) must not hold a call for ever (R9): the server
    // cancels a statement after 4 s (so it does not commit after we gave up), the client gives up after 5 s
    // (the pool then drops that connection), and keepalive finds a dead peer.
    this.pool = new pg.Pool({
      connectionString: opts.uri,
      connectionTimeoutMillis: 3_000,
      max: 10,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    this.pool.on('error', () => {}); // an idle client lost its server; the next query reconnects or fails closed
    return async (sql: string, values?: unknown) => {
      // A reader never creates the table (the adapter's constructor would, unasked).
      if (opts.readOnly && /^\s*CREATE\b/i.test(sql)) return [];
      return (await this.pool.query(sql, values as unknown[])).rows;
    };
  }

  override async disconnect() {
    await this.pool.end();
  }
}

/** `create: false` (commands that only read): the table must exist already, and nothing is created. */
export async function openPostgresStore(url: string, options: { create?: boolean } = {}): Promise<KeyvStore> {
  const create = options.create ?? true;
  // Fail fast when the server is down (connectionTimeoutMillis), so the ledger answers store_unavailable (R9).
  const adapter = new OwnPoolPostgres({ uri: url, table: TABLE, readOnly: !create } as ConstructorParameters<typeof KeyvPostgres>[0]);
  const keyv = new Keyv({ store: adapter, ...keyvJson });
  keyv.on('error', () => {}); // every failure also rejects the call that met it; the ledger fails closed
  const query = adapter.query.bind(adapter) as unknown as Query;
  if (!create) await requireLedgerTable(query, adapter, url);
  const native = postgresSteps(createTableOnFirstUse(query, create), adapter);
  return new KeyvStore(redact(url), keyv, native);
}

/** A reader's check that the ledger table is there; when it is not (or the check fails), the pool is closed. */
async function requireLedgerTable(query: Query, adapter: OwnPoolPostgres, url: string): Promise<void> {
  try {
    const rows = await query(`SELECT to_regclass('public.${TABLE}') IS NOT NULL AS present`);
    if (String(rows[0]?.present) !== 'true') throw new NoLedgerError({ kind: 'postgres', url }, `no ${TABLE} table in that database`);
  } catch (error) {
    await adapter.disconnect().catch(() => {});
    throw error;
  }
}

/**
 * `query`, creating the table before the first statement when `create` is set. The adapter creates its table
 * once at start and gives up if the server was down then; we retry.
 */
function createTableOnFirstUse(query: Query, create: boolean): Query {
  let schemaReady = !create;
  const ensureSchema = async () => {
    if (schemaReady) return;
    await query(`CREATE TABLE IF NOT EXISTS ${TABLE} (key VARCHAR(255) PRIMARY KEY, value TEXT)`).catch(
      (error: { code?: string }) => {
        if (error.code !== '23505') throw error; // a concurrent CREATE won the race: the table exists
      },
    );
    schemaReady = true;
  };
  return async (sql, values) => {
    await ensureSchema();
    return query(sql, values);
  };
}

/** The atomic steps in PostgreSQL's SQL, each statement run through `run`. */
function postgresSteps(run: Query, adapter: OwnPoolPostgres): NativeSteps {
  return {
    async claim(rawKey, raw) {
      // DO NOTHING writes nothing when the key exists (a replay stays a read: no dead tuple, no WAL flush).
      // The SELECT sees the statement's snapshot, so a row committed by a racing claim after it began is
      // invisible to both halves: no row comes back, and the next try sees it.
      for (let tries = 0; tries < 5; tries++) {
        const rows = await run(
          `WITH inserted AS (
             INSERT INTO ${TABLE} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value
           )
           SELECT value FROM inserted UNION ALL SELECT value FROM ${TABLE} WHERE key = $1`,
          [rawKey, raw],
        );
        if (rows.length > 0) return rows[0].value;
      }
      throw new Error(`claim of ${rawKey} kept racing with concurrent claims`);
    },
    async replace(rawKey, expected, next) {
      const rows = await run(`UPDATE ${TABLE} SET value = $1 WHERE key = $2 AND ${same(expected, 3)} RETURNING key`, [next, rawKey, expected.text]);
      return rows.length === 1;
    },
    async removeIf(rawKey, expected) {
      const rows = await run(`DELETE FROM ${TABLE} WHERE key = $1 AND ${same(expected, 2)} RETURNING key`, [rawKey, expected.text]);
      return rows.length === 1;
    },
    async get(rawKey) {
      const rows = await run(`SELECT value FROM ${TABLE} WHERE key = $1`, [rawKey]);
      return rows[0]?.value;
    },
    async getMany(rawKeys) {
      const rows = await run(`SELECT key, value FROM ${TABLE} WHERE key = ANY($1)`, [rawKeys]);
      return valuesInAskedOrder(rawKeys, rows);
    },
    async getLinked(rawKey, field, rawPrefix) {
      const rows = await run(
        `SELECT r.value AS first, l.value AS second FROM ${TABLE} r
           LEFT JOIN ${TABLE} l ON l.key = $1 || (r.value::jsonb -> 'value' ->> '${field}')
         WHERE r.key = $2`,
        [rawPrefix, rawKey],
      );
      return linkedPair(rows);
    },
    entries: (rawPrefix) =>
      pagedEntries((after) =>
        run(
          `SELECT key, value FROM ${TABLE} WHERE key LIKE $1 AND key COLLATE "C" > $2 ORDER BY key COLLATE "C" LIMIT ${ENTRIES_PAGE}`,
          [likePrefix(rawPrefix), after],
        ),
      ),
    close: () => adapter.disconnect(),
  };
}
