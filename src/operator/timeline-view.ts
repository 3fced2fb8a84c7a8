// Ledger records as an operator reads them: a table of records, and one timeline of every attempt of a
// checkout (time, operation, outbound key, provider request id, result, error code), as text; the JSON form
// is checkout/history.ts's.
import { summarize, timelineRows, type CheckoutHistory, type TimelineRow } from '../checkout/history.js';
import type { LedgerRecord } from '../ledger/record.js';
import { printable } from './printable.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function formatRecordTable(records: LedgerRecord[]): string {
  if (records.length === 0) return 'No records.';
  const rows = records.map((r) => {
    const s = summarize(r);
    return [s.key.slice(0, 16), s.operation, s.status, String(s.attempt), s.anchor ?? '-', s.principal, s.updated_at, s.result];
  });
  return table(['KEY', 'OPERATION', 'STATUS', 'ATTEMPT', 'CHECKOUT', 'PRINCIPAL', 'UPDATED', 'RESULT'], rows);
}

function formatTimeline(rows: TimelineRow[]): string {
  return table(
    ['TIME', 'OPERATION', 'ATTEMPT', 'EVENT', 'OUTBOUND KEY', 'PROVIDER REQUEST', 'CODE', 'DETAIL'],
    rows.map((r) => [r.at, r.operation, r.attempt === null ? '-' : String(r.attempt), r.event, r.outbound_key ?? '-', r.provider_request_id ?? '-', r.code ?? '-', r.detail ?? '']),
  );
}

export function formatRecord(record: LedgerRecord): string {
  const s = summarize(record);
  return [
    ...[
      `record ${s.key}`,
      `  ${s.operation} on ${s.backend}${s.anchor ? ` checkout ${s.anchor}` : ''} for principal ${s.principal}`,
      `  status ${s.status}, attempt ${s.attempt}, outbound key ${s.outbound_key}: ${s.result}`,
      `  first seen ${s.first_seen_at}, updated ${s.updated_at}, expires ${s.expires_at}`,
    ].map(printable), // every field can come from outside (a merchant's words, a principal's name)
    '',
    formatTimeline(timelineRows([record])),
  ].join('\n');
}

export function formatHistory(history: CheckoutHistory): string {
  const { head, records } = history;
  const latest = head.order?.value;
  const order = latest ? `, order ${latest.id} ${latest.status ?? ''}`.trimEnd() : head.checkout.order ? `, order ${head.checkout.order.id}` : '';
  const sends = records.flatMap((r) => r.timeline).filter((e) => e.event === 'sent' || e.event === 'resent').length;
  return [
    // The status, order id and checkout id are the merchant's words: never sent to the terminal raw.
    printable(`checkout ${head.anchor} on ${head.backend} (${head.merchant}) for principal ${head.principal}: ${head.checkout.status}${order}`),
    `  first seen ${iso(head.first_seen_at)}; ${records.length} record(s), ${sends} call(s) sent to the provider`,
    '',
    formatRecordTable(records),
    '',
    formatTimeline(timelineRows(records, history.orderEvents)),
  ].join('\n');
}

function table(headers: string[], cells: string[][]): string {
  const rows = cells.map((row) => row.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
