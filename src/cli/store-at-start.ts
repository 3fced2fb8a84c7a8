// Before the server says it is ready, it writes to its store once. A fault no retry can fix (a missing
// database, a refused password, an unwritable path, a Redis that keeps nothing) stops start-up with one line
// naming ONCE_STORE and the fix; a store that is only down for now lets the server start, and its calls answer
// store_unavailable (retryable) until the store is back (R9).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { StoreUrl } from '../store/store.js';
import { classifyStoreError, storeFault } from '../store/store-fault.js';
import { storeRefusal, storeWhere } from '../store/store-refusal.js';
import type { Store } from '../store/store.js';

/** Start-up must end, one way or the other, well within 5 s. */
const PROBE_TIMEOUT_MS = 3_500;
const PROBE_PREFIX = 'probe:start:';

export async function checkStoreAtStart(store: Store, url: StoreUrl, logger: Logger): Promise<void> {
  const key = `${PROBE_PREFIX}${randomBytes(6).toString('hex')}`;
  const probe = (async () => {
    await store.put(key, { at: Date.now() });
    await store.delete(key);
  })();
  const problem = await withTimeout(probe, PROBE_TIMEOUT_MS);
  if (problem !== undefined) {
    const fault = problem === 'timeout' ? storeFault('timeout') : classifyStoreError(problem);
    if (!fault.transient) throw storeRefusal(url, problem, fault);
    logger.log('warn', 'store_unavailable', {
      store: store.description,
      cause: fault.cause,
      message: `${storeWhere(url)}: ${fault.words}; starting anyway, and calls answer store_unavailable (retryable) until it is back`,
    });
    return;
  }
  // A Redis that keeps nothing across its own restart loses the ledger without a single error.
  if (url.kind === 'redis') {
    // Imported here: the Redis client loads only when the store is Redis.
    const { checkRedisPersistence } = await import('../operator/redis-persistence.js');
    const verdict = await checkRedisPersistence(url.url);
    if (verdict.status === 'fail') {
      const fault = storeFault('no_persistence');
      throw storeRefusal(url, undefined, fault);
    }
    if (verdict.status === 'warn') logger.log('warn', 'store_persistence', { store: store.description, message: verdict.detail });
  }
}

async function withTimeout(work: Promise<void>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work.then(() => undefined, (error: unknown) => error ?? new Error('store failed')), late]);
  } finally {
    clearTimeout(timer);
  }
}
