// The released ACP versions and what changed between them that our requests and answers depend on
// (../acp-spec/changelog). Everything version-specific asks one of these questions, never a date comparison.

export const ACP_VERSIONS = ['2025-09-29', '2025-12-12', '2026-01-16', '2026-01-30', '2026-04-17'] as const;
export type AcpVersion = (typeof ACP_VERSIONS)[number];
export const LATEST_ACP_VERSION: AcpVersion = '2026-04-17';

export function isAcpVersion(value: unknown): value is AcpVersion {
  return typeof value === 'string' && (ACP_VERSIONS as readonly string[]).includes(value);
}

/**
 * The three shapes of the wire, by version:
 * - `items`: 2025-09-29 — `items[{id, quantity}]`, flat `fulfillment_address`, `fulfillment_option_id`,
 *   `payment_data{token, provider}`, line items with flat amounts, no cancel body.
 * - `details`: 2025-12-12 and 2026-01-16 — as `items`, but `fulfillment_details` and
 *   `selected_fulfillment_options[{type, shipping: {option_id, item_ids}}]`, `intent_trace` on cancel.
 * - `handlers`: 2026-01-30 and 2026-04-17 — `line_items[{id}]`, `currency` and `capabilities` on create,
 *   `payment_data{handler_id, instrument}`, `capabilities.payment.handlers`, totals arrays everywhere.
 */
export type AcpShape = 'items' | 'details' | 'handlers';

export function shapeOf(version: AcpVersion): AcpShape {
  if (version === '2025-09-29') return 'items';
  if (version === '2025-12-12' || version === '2026-01-16') return 'details';
  return 'handlers';
}

/** Before 2026-04-17 a key reused with another body was 409 `request_not_idempotent`; since, 422 `idempotency_conflict`. */
export function conflictIsLegacy(version: AcpVersion): boolean {
  return version !== '2026-04-17';
}

/** Only 2026-04-17's Error has `supported_versions`. */
export function errorsListVersions(version: AcpVersion): boolean {
  return version === '2026-04-17';
}

/** The newest version in both lists, or undefined when they share none. */
export function newestCommon(ours: readonly string[], theirs: readonly unknown[]): AcpVersion | undefined {
  const shared = ACP_VERSIONS.filter((v) => ours.includes(v) && theirs.includes(v));
  return shared.at(-1);
}
