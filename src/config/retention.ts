// R8: our records must not outlive the provider's memory of our keys.
import type { Retention } from '../backends/backend.js';
import { ConfigError } from './config-error.js';
import { formatDuration } from './duration.js';

export function effectiveTtl(configured: number | undefined, retention: Retention, windowMs: number): number {
  const ttl = configured ?? retention.defaultTtlMs;
  if (ttl >= retention.providerMs) {
    throw new ConfigError(
      'ONCE_TTL',
      `${formatDuration(ttl)} is not below the provider's key retention of ${formatDuration(retention.providerMs)} (${retention.description})`,
      `Set ONCE_TTL below ${formatDuration(retention.providerMs)} (default ${formatDuration(retention.defaultTtlMs)}), so a resent key is still deduplicated by the provider`,
    );
  }
  if (windowMs > ttl) {
    throw new ConfigError('ONCE_DEDUP_WINDOW', `${formatDuration(windowMs)} is longer than the record TTL ${formatDuration(ttl)}`, 'Make the dedup window at most the TTL (R3 in docs/guarantees.md)');
  }
  return ttl;
}
