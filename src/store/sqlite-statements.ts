// One SQLite connection whose statements are prepared once and kept. The sqlite3 driver runs every step on its
// thread pool: a query by SQL text prepares, runs and finalizes a statement, three hops there and back, where a
// kept statement makes one (a replay's read: about 110-150 µs against 40-60 µs on this project's 2-core machine).
import sqlite3 from 'sqlite3';
import type { Rows } from './sql-store.js';

/** Statements kept per connection; the ledger's steps use a handful, a scan of many keys may add more. */
const KEPT = 64;

/** A kept statement, and whether the driver has prepared it yet. */
interface Kept {
  statement: sqlite3.Statement;
  ready: boolean;
  /** Calls on it not finished yet (those waiting for it to be prepared too): it is finalized after them. */
  uses: number;
  evicted: boolean;
  /** Settles when the driver has prepared it; rejects with why it could not. */
  prepared: Promise<void>;
}

export class SqliteStatements {
  private readonly kept = new Map<string, Kept>();
  /** Evicted but still in use: finalized when their last call ends, or at close. */
  private readonly leaving = new Set<Kept>();
  private closed = false;

  private constructor(private readonly db: sqlite3.Database) {}

  /** Opens `path` (the file must exist: the Keyv adapter creates it and its table first). */
  static open(path: string, busyTimeoutMs: number): Promise<SqliteStatements> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(path, sqlite3.OPEN_READWRITE, (error) => {
        if (error) return reject(error);
        db.configure('busyTimeout', busyTimeoutMs);
        resolve(new SqliteStatements(db));
      });
    });
  }

  /** Every row `sql` returns with `params` bound, on the statement kept for that text. */
  all(sql: string, ...params: unknown[]): Promise<Rows> {
    if (this.closed) return Promise.reject(new Error('the SQLite store is closed'));
    let kept = this.kept.get(sql);
    if (kept) {
      // The most recently used last: past the limit, the least recently used goes.
      this.kept.delete(sql);
      this.kept.set(sql, kept);
    } else {
      kept = this.prepare(sql);
    }
    kept.uses += 1;
    // Not before it is prepared: the driver drops, without a word, the calls queued on a statement that fails to.
    const rows = kept.ready ? rowsOf(kept.statement, params) : kept.prepared.then(() => rowsOf(kept.statement, params));
    return rows.finally(() => {
      kept.uses -= 1;
      if (kept.evicted && kept.uses === 0 && this.leaving.delete(kept)) kept.statement.finalize();
    });
  }

  private prepare(sql: string): Kept {
    if (this.kept.size >= KEPT) {
      // The least recently used goes, once the calls made on it have finished.
      const [oldest, gone] = this.kept.entries().next().value as [string, Kept];
      this.kept.delete(oldest);
      gone.evicted = true;
      if (gone.uses === 0) gone.statement.finalize();
      else this.leaving.add(gone);
    }
    let settle: (error: Error | null) => void = () => {};
    const prepared = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    const kept: Kept = { statement: undefined as unknown as sqlite3.Statement, ready: false, uses: 0, evicted: false, prepared };
    // The driver may call back at once (a closed database), so `kept` exists before it is prepared.
    let failed = false;
    kept.statement = this.db.prepare(sql, (error: Error | null) => {
      if (error) {
        failed = true;
        if (this.kept.get(sql) === kept) this.kept.delete(sql); // the next call prepares again
      } else {
        kept.ready = true;
      }
      settle(error);
    });
    if (!failed) this.kept.set(sql, kept);
    return kept;
  }

  /** Finalizes every statement, then closes; calls made from now on are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.kept.values(), ...this.leaving];
    this.kept.clear();
    this.leaving.clear();
    await Promise.all(
      all.map(async (kept) => {
        // One that failed to prepare was finalized by the driver, which would never call back a second time.
        await kept.prepared.catch(() => {});
        if (kept.ready) await new Promise<void>((resolve) => kept.statement.finalize(() => resolve()));
      }),
    );
    await new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
  }
}

function rowsOf(statement: sqlite3.Statement, params: unknown[]): Promise<Rows> {
  return new Promise((resolve, reject) => {
    statement.all(params, (error: Error | null, rows: Rows) => (error ? reject(error) : resolve(rows)));
  });
}
