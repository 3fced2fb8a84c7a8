// What the SQL stores (PostgreSQL and SQLite) do the same way around their own SQL: put the rows of a
// several-key read back in the order asked, and scan a key prefix in pages (keyset paging on the key).

export type Rows = Array<Record<string, string>>;

/** Rows per page of the prefix scan: the LIMIT of each store's `entries` query. */
export const ENTRIES_PAGE = 500;

/** The values of `rows` (each a `key` and a `value`) in the order of `rawKeys`, undefined where a key has no row. */
export function valuesInAskedOrder(rawKeys: readonly string[], rows: Rows): Array<string | undefined> {
  const found = new Map(rows.map((row) => [row.key, row.value]));
  return rawKeys.map((key) => found.get(key));
}

/** The first and the linked value of a `getLinked` query's one row (`first`, `second`). */
export function linkedPair(rows: Rows): [string | undefined, string | undefined] {
  return [rows[0]?.first, rows[0]?.second ?? undefined];
}

/**
 * Every `[key, value]` of a prefix scan, page by page: `page(after)` returns up to ENTRIES_PAGE rows whose
 * keys sort after `after`, in key order; a shorter page is the last.
 */
export async function* pagedEntries(page: (after: string) => Promise<Rows>): AsyncGenerator<[string, string]> {
  let after = '';
  for (;;) {
    const rows = await page(after);
    for (const row of rows) yield [row.key, row.value];
    if (rows.length < ENTRIES_PAGE) return;
    after = rows[rows.length - 1].key;
  }
}
