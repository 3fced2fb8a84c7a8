// Ledger records as an operator reads them: a table of records, and one timeline of every attempt of a
// checkout (time, operation, outbound key, provider request id, result, error code), in text or JSON.
import type { Json } from '../ledger/canonical.js';
import type { LedgerRecord, TimelineEvent } from '../ledger/record.js';
import type { CheckoutHistory } from './checkout-history.js';
import { printable } from './printable.js';

export interface RecordSummary {
  key: string;
  operation: string;
  status: LedgerRecord['state']['status'];
  principal: string;
  backend: string;
  anchor: string | null;
  attempt: number;
  outbound_key: string;
  /** The checkout the record settled with (status, order), or the failure code, or why it is unknown. */
  result: string;
  first_seen_at: string;
  updated_at: string;
  expires_at: string;
}

export interface TimelineRow {
  at: string;
  operation: string;
  record: string;
  attempt: number;
  event: TimelineEvent['event'];
  outbound_key: string | null;
  provider_request_id: string | null;
  code: string | null;
  detail: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function summarize(record: LedgerRecord): RecordSummary {
  return {
    key: record.key,
    operation: record.operation,
    status: record.state.status,
    principal: record.principal,
    backend: record.backend,
    anchor: record.anchor ?? null,
    attempt: record.attempt,
    outbound_key: record.outbound_key,
    result: resultOf(record),
    first_seen_at: iso(record.first_seen_at),
    updated_at: iso(record.updated_at),
    expires_at: iso(record.expires_at),
  };
}

function resultOf(record: LedgerRecord): string {
  const state = record.state;
  switch (state.status) {
    case 'succeeded':
      return describeValue(state.result) ?? 'succeeded';
    case 'failed':
      return `${state.code}: ${state.message}`;
    case 'unknown':
      return state.reason;
    case 'pending':
      return `running under ${state.owner} until ${iso(state.lease_until)}`;
  }
}

/** A checkout value in a few words: its id, status and order. */
function describeValue(value: Json | undefined): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const order = value.order && typeof value.order === 'object' && !Array.isArray(value.order) ? value.order.id : undefined;
  const parts = [value.id, value.status, order ? `order ${String(order)}` : undefined].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.map(String).join(' ') : undefined;
}

/** Every event of these records on one time line, oldest first. */
export function timelineRows(records: LedgerRecord[]): TimelineRow[] {
  const rows = records.flatMap((record) =>
    record.timeline.map((event) => ({
      at: event.at,
      row: {
        at: iso(event.at),
        operation: record.operation,
        record: record.key,
        attempt: event.attempt,
        event: event.event,
        outbound_key: event.outbound_key ?? null,
        provider_request_id: event.provider_request_id ?? null,
        code: event.code ?? null,
        // A first claim's detail is only its claim id: noise to an operator.
        detail: event.event === 'claimed' ? null : (event.detail ?? null),
      },
    })),
  );
  return rows.sort((a, b) => a.at - b.at).map((r) => r.row);
}

export function formatRecordTable(records: LedgerRecord[]): string {
  if (records.length === 0) return 'No records.';
  const rows = records.map((r) => {
    const s = summarize(r);
    return [s.key.slice(0, 16), s.operation, s.status, String(s.attempt), s.anchor ?? '-', s.principal, s.updated_at, s.result];
  });
  return table(['KEY', 'OPERATION', 'STATUS', 'ATTEMPT', 'CHECKOUT', 'PRINCIPAL', 'UPDATED', 'RESULT'], rows);
}

export function formatTimeline(rows: TimelineRow[]): string {
  return table(
    ['TIME', 'OPERATION', 'ATTEMPT', 'EVENT', 'OUTBOUND KEY', 'PROVIDER REQUEST', 'CODE', 'DETAIL'],
    rows.map((r) => [r.at, r.operation, String(r.attempt), r.event, r.outbound_key ?? '-', r.provider_request_id ?? '-', r.code ?? '-', r.detail ?? '']),
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
  const order = head.checkout.order ? `, order ${head.checkout.order.id}` : '';
  const sends = records.flatMap((r) => r.timeline).filter((e) => e.event === 'sent' || e.event === 'resent').length;
  return [
    // The status, order id and checkout id are the merchant's words: never sent to the terminal raw.
    printable(`checkout ${head.anchor} on ${head.backend} (${head.merchant}) for principal ${head.principal}: ${head.checkout.status}${order}`),
    `  first seen ${iso(head.first_seen_at)}; ${records.length} record(s), ${sends} call(s) sent to the provider`,
    '',
    formatRecordTable(records),
    '',
    formatTimeline(timelineRows(records)),
  ].join('\n');
}

/** The JSON form of a checkout's history (`ledger show --json`, the checkout:// resource). */
export function historyJson(history: CheckoutHistory) {
  return {
    checkout: history.head.checkout,
    principal: history.head.principal,
    backend: history.head.backend,
    first_seen_at: iso(history.head.first_seen_at),
    updated_at: iso(history.head.updated_at),
    records: history.records.map(summarize),
    timeline: timelineRows(history.records),
  };
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
