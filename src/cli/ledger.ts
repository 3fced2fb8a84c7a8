// `once-checkout ledger list|show`: reads the ledger and explains it; changes nothing.
import { loadConfig } from '../config/config.js';
import { ConfigError } from '../config/config-error.js';
import { parseDuration } from '../config/duration.js';
import { Ledger } from '../ledger/ledger.js';
import { checkoutHistory, findRecord, historyJson, summarize, timelineRows } from '../checkout/history.js';
import type { LedgerRecord, Status } from '../ledger/record.js';
import { printable, terminalJson } from '../operator/printable.js';
import { formatHistory, formatRecord, formatRecordTable } from '../operator/timeline-view.js';
import { openStore } from '../store/open.js';
import { parseArgs } from './args.js';

export const LEDGER_HELP = `once-checkout ledger: read the ledger (records, attempts, timelines)

Usage:
  once-checkout ledger list [--status unknown|pending|failed|succeeded] [--since 1h] [--json] [--store URL]
  once-checkout ledger show ID [--json] [--store URL]

ID is a record key (or its first 16 characters, as list prints them) or a checkout id: for a checkout,
show prints its create record, every record hung off it, and one timeline of every call sent.`;

const STATUSES: Status[] = ['pending', 'succeeded', 'failed', 'unknown'];

export async function ledger(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { '--status': true, '--since': true, '--json': false });
  const [sub, id, ...extra] = args.positional;
  if (sub === undefined) {
    process.stderr.write(`${LEDGER_HELP}\n`); // `once-checkout ledger` alone: how to use it
    return 2;
  }
  if (sub !== 'list' && sub !== 'show') throw new ConfigError('ledger', `"${sub}" is not a ledger command`, 'Use "ledger list" or "ledger show ID"');
  if (extra.length > 0 || (sub === 'list' && id !== undefined)) throw new ConfigError('ledger', `unexpected argument "${extra[0] ?? id}"`, 'Run ledger --help');
  const json = args.options.has('--json');
  const config = loadConfig(args.env);
  const store = await openStore(config.store, { mustExist: true }); // a reader never creates a ledger
  // Read-only use: the TTL only matters for records this ledger would create, and it creates none.
  const reader = new Ledger({ store, ttlMs: config.ttlMs ?? 3_600_000 });
  try {
    if (sub === 'list') return await list(reader, args.options, json);
    if (id === undefined) throw new ConfigError('ledger show', 'needs an ID', 'Write ledger show KEY or ledger show CHECKOUT_ID');
    return await show(reader, id, json);
  } finally {
    await store.close();
  }
}

async function list(reader: Ledger, options: Map<string, string | true>, json: boolean): Promise<number> {
  const status = options.get('--status');
  if (status !== undefined && !STATUSES.includes(status as Status)) {
    throw new ConfigError('--status', `"${String(status)}" is not a record status`, `Use one of ${STATUSES.join(', ')}`);
  }
  const sinceText = options.get('--since');
  const sinceMs = typeof sinceText === 'string' ? parseDuration(sinceText) : undefined;
  if (sinceText !== undefined && sinceMs === undefined) throw new ConfigError('--since', `"${String(sinceText)}" is not a duration`, 'Write it like 30m, 1h or 2d');
  const from = sinceMs === undefined ? -Infinity : reader.clock.now() - sinceMs;
  const records: LedgerRecord[] = [];
  for await (const record of reader.records()) {
    if (status !== undefined && record.state.status !== status) continue;
    if (record.updated_at < from) continue;
    records.push(record);
  }
  records.sort((a, b) => a.first_seen_at - b.first_seen_at);
  process.stdout.write(json ? `${terminalJson(records.map(summarize))}\n` : `${formatRecordTable(records)}\n`);
  return 0;
}

async function show(reader: Ledger, id: string, json: boolean): Promise<number> {
  const history = await checkoutHistory(reader, id);
  if (history) {
    process.stdout.write(json ? `${terminalJson(historyJson(history))}\n` : `${formatHistory(history)}\n`);
    return 0;
  }
  const record = await findRecord(reader, id);
  if (record) {
    const out = { record: summarize(record), summary: record.summary, timeline: timelineRows([record]) };
    process.stdout.write(json ? `${terminalJson(out)}\n` : `${formatRecord(record)}\n`);
    return 0;
  }
  process.stderr.write(`once-checkout: no record or checkout "${printable(id)}" in this ledger. Run 'once-checkout ledger list' to see what it holds.\n`);
  return 1;
}
