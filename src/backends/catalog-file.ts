// The ONCE_CATALOG file: prices for backends whose provider keeps no catalog of its own (PayPal).
import { readFileSync } from 'node:fs';

export interface CatalogEntry {
  name: string;
  /** Integer minor units. */
  unit_amount: number;
  /** ISO 4217, lower-case. */
  currency: string;
}

/** Item id → entry. */
export type Catalog = Readonly<Record<string, CatalogEntry>>;

/** Reads and checks the catalog file; every error is one line naming ONCE_CATALOG and the fix. */
export function loadCatalogFile(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new Error(`ONCE_CATALOG: cannot read ${path} (${code}): point ONCE_CATALOG at a readable JSON catalog file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`ONCE_CATALOG: ${path} is not valid JSON (${(err as Error).message}): fix the file`);
  }
  return parseCatalog(json, path);
}

/** Checks a parsed catalog: `{ "<id>": { "name": "…", "unit_amount": 1500, "currency": "usd" }, … }`. */
export function parseCatalog(json: unknown, source = 'catalog'): Catalog {
  const shape = 'expected {"<item id>": {"name": "…", "unit_amount": <integer minor units>, "currency": "usd"}, …}';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`ONCE_CATALOG: ${source}: ${shape}`);
  }
  const catalog: Record<string, CatalogEntry> = {};
  for (const [id, raw] of Object.entries(json as Record<string, unknown>)) {
    const where = `ONCE_CATALOG: ${source}: item ${JSON.stringify(id)}`;
    if (id.trim() === '') throw new Error(`ONCE_CATALOG: ${source}: an item id is empty: give every item a non-empty id`);
    if (typeof raw !== 'object' || raw === null) throw new Error(`${where} is not an object: ${shape}`);
    const entry = raw as Record<string, unknown>;
    if (typeof entry.name !== 'string' || entry.name.trim() === '') {
      throw new Error(`${where}: "name" must be a non-empty string`);
    }
    if (typeof entry.unit_amount !== 'number' || !Number.isSafeInteger(entry.unit_amount) || entry.unit_amount < 0) {
      throw new Error(`${where}: "unit_amount" must be a non-negative integer in minor units (1500 for 15.00)`);
    }
    if (typeof entry.currency !== 'string' || !/^[A-Za-z]{3}$/.test(entry.currency)) {
      throw new Error(`${where}: "currency" must be a three-letter ISO 4217 code such as "usd"`);
    }
    catalog[id] = { name: entry.name.trim(), unit_amount: entry.unit_amount, currency: entry.currency.toLowerCase() };
  }
  if (Object.keys(catalog).length === 0) throw new Error(`ONCE_CATALOG: ${source} has no items: ${shape}`);
  return catalog;
}
