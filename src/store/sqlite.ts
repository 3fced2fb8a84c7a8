// sqlite:///abs/path.db — the embedded default, on @keyv/sqlite. The claim is one statement:
// INSERT … ON CONFLICT DO UPDATE (a no-op) RETURNING value, which SQLite runs under its write lock.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { KeyvStore, keyvJson, likePrefix, type Expected, type NativeSteps } from './keyv-store.js';
import { ENTRIES_PAGE, linkedPair, pagedEntries, valuesInAskedOrder, type Rows } from './sql-store.js';
import { SqliteStatements } from './sqlite-statements.js';

type Query = (sql: string, ...params: unknown[]) => Promise<Rows>;

const BUSY_TIMEOUT_MS = 10_000;

/** The compare-and-swap's condition on `value`, with the expected text as the one parameter (ASCII write id). */
function same(expected: Expected): string {
  return expected.prefix ? `substr(value, 1, ${expected.text.length}) = ?` : 'value = ?';
}

/** `path` is absolute (a file: the native steps run on a second connection to it, with kept statements). */
export async function openSqliteStore(path: string): Promise<KeyvStore> {
  mkdirSync(dirname(path), { recursive: true });
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: BUSY_TIMEOUT_MS });
  const keyv = new Keyv({ store: adapter, ...keyvJson });
  keyv.on('error', () => {}); // every failure also rejects the call that met it; the ledger fails closed
  const adapterQuery = adapter.query.bind(adapter) as unknown as Query;
  // WAL lets readers run beside the one writer, across the processes that share the file (and both connections).
  await adapterQuery('PRAGMA journal_mode = WAL');
  await adapterQuery('PRAGMA synchronous = NORMAL');
  const statements = await SqliteStatements.open(path, BUSY_TIMEOUT_MS).catch(async (error: unknown) => {
    await adapter.close().catch(() => {});
    throw error;
  });
  const unmoved = stillTheFileOpened(path);
  const query: Query = (sql, ...params) => statements.all(sql, ...params);
  await query('PRAGMA synchronous = NORMAL'); // a setting of each connection
  const table = 'keyv';
  const native: NativeSteps = {
    async claim(rawKey, raw) {
      unmoved();
      const rows = await query(
        `INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value RETURNING value`,
        rawKey,
        raw,
      );
      return rows[0].value;
    },
    async replace(rawKey, expected, next) {
      unmoved();
      const rows = await query(`UPDATE ${table} SET value = ? WHERE key = ? AND ${same(expected)} RETURNING key`, next, rawKey, expected.text);
      return rows.length === 1;
    },
    async removeIf(rawKey, expected) {
      unmoved();
      const rows = await query(`DELETE FROM ${table} WHERE key = ? AND ${same(expected)} RETURNING key`, rawKey, expected.text);
      return rows.length === 1;
    },
    async get(rawKey) {
      const rows = await query(`SELECT value FROM ${table} WHERE key = ?`, rawKey);
      return rows[0]?.value;
    },
    async getMany(rawKeys) {
      const rows = await query(`SELECT key, value FROM ${table} WHERE key IN (${rawKeys.map(() => '?').join(', ')})`, ...rawKeys);
      return valuesInAskedOrder(rawKeys, rows);
    },
    async getLinked(rawKey, field, rawPrefix) {
      const rows = await query(
        `SELECT r.value AS first, l.value AS second FROM ${table} r
           LEFT JOIN ${table} l ON l.key = ? || json_extract(r.value, '$.value.${field}')
         WHERE r.key = ?`,
        rawPrefix,
        rawKey,
      );
      return linkedPair(rows);
    },
    entries: (rawPrefix) =>
      pagedEntries((after) =>
        query(
          `SELECT key, value FROM ${table} WHERE key LIKE ? ESCAPE '\\' AND key > ? ORDER BY key LIMIT ${ENTRIES_PAGE}`,
          likePrefix(rawPrefix),
          after,
        ),
      ),
    close: async () => {
      try {
        await statements.close();
      } finally {
        await adapter.close();
      }
    },
  };
  return new KeyvStore(`sqlite://${path}`, keyv, native);
}

/**
 * A check that `path` is still the file both connections opened: a write into it after it was deleted or replaced
 * would land in a file nobody else sees (and this process's next start loses), so writes refuse instead (R7, R9).
 * One stat, about 2 µs.
 */
function stillTheFileOpened(path: string): () => void {
  const opened = statSync(path);
  return () => {
    const now = statSync(path, { throwIfNoEntry: false });
    if (now?.ino !== opened.ino || now.dev !== opened.dev) {
      throw Object.assign(new Error(`the ledger file ${path} was deleted or replaced while open (SQLITE_CANTOPEN); restart to open it again`), { code: 'SQLITE_CANTOPEN' });
    }
  };
}
