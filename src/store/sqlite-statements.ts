// One SQLite connection whose statements are prepared once and kept. The sqlite3 driver runs every step on its
// thread pool: a query by SQL text prepares, runs and finalizes a statement, three hops there and back, where a
// kept statement makes one (a replay's read: about 110-150 µs against 40-60 µs on this project's 2-core machine).
import sqlite3 from 'sqlite3';
import type { Rows } from './sql-store.js';

/** Statements kept per connection; the ledger's steps use a handful, a scan of many keys may add more. */
const KEPT = 64;

export class SqliteStatements {
  private readonly kept = new Map<string, sqlite3.Statement>();

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
    const statement = this.kept.get(sql) ?? this.prepare(sql);
    return new Promise((resolve, reject) => {
      statement.all(params, (error: Error | null, rows: Rows) => (error ? reject(error) : resolve(rows)));
    });
  }

  private prepare(sql: string): sqlite3.Statement {
    if (this.kept.size >= KEPT) {
      // The oldest goes; calls still queued on it run first (the driver finalizes after them).
      const [oldest, statement] = this.kept.entries().next().value as [string, sqlite3.Statement];
      this.kept.delete(oldest);
      statement.finalize();
    }
    // A statement that fails to prepare hands its error to every call queued on it, and is not kept.
    const statement = this.db.prepare(sql, (error: Error | null) => {
      if (error && this.kept.get(sql) === statement) this.kept.delete(sql);
    });
    this.kept.set(sql, statement);
    return statement;
  }

  async close(): Promise<void> {
    const statements = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(statements.map((statement) => new Promise<void>((resolve) => statement.finalize(() => resolve()))));
    await new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
  }
}
