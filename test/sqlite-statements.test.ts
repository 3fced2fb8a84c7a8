// The SQLite store's kept statements: a statement that cannot be prepared fails its calls (and is not kept),
// and past the limit the oldest statements go while calls queued on them still get their rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import { SqliteStatements } from '../src/store/sqlite-statements.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function opened() {
  const dir = mkdtempSync(join(tmpdir(), 'once-stmts-'));
  dirs.push(dir);
  const path = join(dir, 'ledger.db');
  const store = await openSqliteStore(path); // creates the file and its table
  const statements = await SqliteStatements.open(path, 1_000);
  return { store, statements };
}

describe('SQLite kept statements (R9: a store error fails the call, never the process)', () => {
  it('R9: a statement that cannot be prepared rejects every call made on it, and the next call prepares again', async () => {
    const { store, statements } = await opened();
    await expect(statements.all('SELECT nope FROM keyv WHERE key = ?', 'a')).rejects.toThrow(/no such column/);
    await expect(statements.all('SELECT nope FROM keyv WHERE key = ?', 'a')).rejects.toThrow(/no such column/);
    expect(await statements.all('SELECT COUNT(*) AS n FROM keyv')).toEqual([{ n: 0 }]);
    await statements.close();
    await store.close();
  });

  it('past the kept limit the oldest statements are finalized, after the calls already queued on them', async () => {
    const { store, statements } = await opened();
    await store.put('k', { n: 1 });
    const texts = Array.from({ length: 100 }, (_, i) => `SELECT ${i} AS i, COUNT(*) AS n FROM keyv WHERE key LIKE ?`);
    const rows = await Promise.all(texts.flatMap((sql) => [statements.all(sql, '%'), statements.all(sql, '%')]));
    expect(rows.map((r) => r[0].i)).toEqual(texts.flatMap((_, i) => [i, i]));
    expect(rows.every((r) => r[0].n === 1)).toBe(true);
    await statements.close();
    await store.close();
  });

  it('R9: a kept statement that ran holds no transaction: another connection checkpoints the WAL, and this one writes after another wrote', async () => {
    const { store, statements } = await opened();
    await store.put('k', { n: 1 });
    const other = new sqlite3.Database((store.description ?? '').replace('sqlite://', ''));
    const otherAll = promisify(other.all).bind(other) as (sql: string) => Promise<unknown[]>;
    expect(await statements.all("SELECT value FROM keyv WHERE key = ?", 'once:k')).toHaveLength(1);
    await otherAll(`UPDATE keyv SET value = 'x' WHERE key = 'once:k'`);
    expect(await otherAll('PRAGMA wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
    await otherAll(`UPDATE keyv SET value = 'y' WHERE key = 'once:k'`);
    // Not SQLITE_BUSY_SNAPSHOT: the kept statements' connection reads the newest data when it writes.
    expect(await statements.all('UPDATE keyv SET value = ? WHERE key = ? RETURNING value', 'z', 'once:k')).toEqual([{ value: 'z' }]);
    await promisify(other.close).bind(other)();
    await statements.close();
    await store.close();
  });

  it('R9: a call made while the store closes or after it is refused with an error, and close still closes the connection', async () => {
    const { store, statements } = await opened();
    const during = statements.all('SELECT COUNT(*) AS n FROM keyv');
    const closing = statements.close();
    const late = statements.all('SELECT 1 AS one');
    await expect(late).rejects.toThrow(/closed/);
    await closing;
    await expect(during).resolves.toEqual([{ n: 0 }]);
    await expect(statements.all('SELECT 2 AS two')).rejects.toThrow(/closed/);
    await store.close();
  });

  it('past the kept limit the least recently used statement goes, not the one every call uses', async () => {
    const { store, statements } = await opened();
    const hot = 'SELECT COUNT(*) AS n FROM keyv';
    await statements.all(hot);
    const kept = (statements as unknown as { kept: Map<string, unknown> }).kept;
    const first = kept.get(hot);
    for (let i = 0; i < 100; i++) {
      await statements.all(`SELECT ${i} AS i`);
      await statements.all(hot);
    }
    expect(kept.size).toBe(64);
    expect(kept.get(hot)).toBe(first); // never evicted and prepared again
    expect(kept.has('SELECT 0 AS i')).toBe(false);
    await statements.close();
    await store.close();
  });
});
