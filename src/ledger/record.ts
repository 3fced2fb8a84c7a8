// The ledger record: one per operation intent. Its state is a discriminated union so every caller handles
// every state; its timeline explains every attempt (R10).
import type { Json } from './canonical.js';

export type RecordState<T> =
  /** An attempt is running under a lease; `fence` identifies the owner so a stale one cannot settle (R7). */
  | { status: 'pending'; owner: string; lease_until: number }
  | { status: 'succeeded'; result: T }
  /** Terminal: the provider decided. A new call runs attempt n+1 with a new key (R6). */
  | { status: 'failed'; code: string; message: string; result?: T }
  /** Ambiguous: reconciled before anything else runs, and resent only with the same key (R6). */
  | { status: 'unknown'; reason: string };

export type Status = RecordState<unknown>['status'];

export type TimelineEventKind =
  | 'claimed'
  | 'taken_over'
  | 'sent'
  | 'resent'
  | 'reconciled'
  | 'succeeded'
  | 'failed'
  | 'unknown'
  | 'new_generation';

export interface TimelineEvent {
  at: number;
  event: TimelineEventKind;
  attempt: number;
  outbound_key?: string;
  fence?: number;
  code?: string;
  detail?: string;
  provider_request_id?: string;
}

export interface LedgerRecord<T = Json> {
  v: 1;
  key: string;
  principal: string;
  operation: string;
  backend: string;
  /** The merchant's or PSP's id for the checkout, once known (R5). */
  anchor?: string;
  /** The store key of the anchor's head, so one read finds a record and its checkout (R11, R13). */
  anchor_key?: string;
  /** Hash of the full canonical arguments: the same record key with another fingerprint is a conflict (R4). */
  fingerprint: string;
  /** The arguments with secrets replaced by fingerprints, so any charge can be explained (R10). */
  summary: Json;
  generation: number;
  generation_started_at: number;
  attempt: number;
  /**
   * What the current attempt sends (a hash): a resend under its key must send exactly this (R6). Absent:
   * the same as `fingerprint` (every operation but complete, whose payment data the fingerprint leaves out).
   */
  attempt_fingerprint?: string;
  /** Increases on every claim or take-over; compare-and-swap on the record makes it a fencing token. */
  fence: number;
  outbound_key: string;
  first_seen_at: number;
  updated_at: number;
  /** When the current generation last reached succeeded or failed; the dedup window W counts from it (R3). */
  settled_at?: number;
  expires_at: number;
  state: RecordState<T>;
  timeline: TimelineEvent[];
}

/** Every field this version knows. The type makes the list complete: a field added to the record must be named here. */
const RECORD_FIELDS: { readonly [K in keyof LedgerRecord]-?: true } = {
  v: true, key: true, principal: true, operation: true, backend: true, anchor: true, anchor_key: true,
  fingerprint: true, summary: true, generation: true, generation_started_at: true, attempt: true,
  attempt_fingerprint: true, fence: true, outbound_key: true, first_seen_at: true, updated_at: true,
  settled_at: true, expires_at: true, state: true, timeline: true,
};

/** How many of them every record has: all but anchor, anchor_key, attempt_fingerprint and settled_at. */
const REQUIRED_FIELDS = Object.keys(RECORD_FIELDS).length - 4;

/**
 * `next` with the fields of `from` that this version does not know, as they were: a record a newer version
 * wrote keeps what that version put on it when this one settles it.
 */
export function withUnknownFields<T>(next: LedgerRecord<T>, from: LedgerRecord<T>): LedgerRecord<T> {
  // The usual case, told cheaply (a settle is on every call's path): a record of this format (v 1: a version
  // that drops or renames a field must raise v) with no more fields than this version knows.
  const optional = +(from.anchor !== undefined) + +(from.anchor_key !== undefined) + +(from.attempt_fingerprint !== undefined) + +(from.settled_at !== undefined);
  if (from.v === 1 && Object.keys(from).length === REQUIRED_FIELDS + optional) return next;
  for (const name in from) {
    if (!Object.hasOwn(RECORD_FIELDS, name)) (next as unknown as Record<string, unknown>)[name] = (from as unknown as Record<string, unknown>)[name];
  }
  return next;
}

export function isSettled<T>(record: LedgerRecord<T>): boolean {
  return record.state.status === 'succeeded' || record.state.status === 'failed';
}

export const RECORD_PREFIX = 'rec:';

export function recordStoreKey(key: string): string {
  return `${RECORD_PREFIX}${key}`;
}
