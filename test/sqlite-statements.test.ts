// The SQLite store's kept statements: a statement that cannot be prepared fails its calls (and is not kept),
// and past the limit the oldest statements go while calls queued on them still get their rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  it('a statement that cannot be prepared rejects every call made on it, and the next call prepares again', async () => {
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
});
