// The same workload through AWS Powertools idempotency (makeIdempotent + its Redis cache persistence layer),
// on the same Redis. Loaded only when installed (a dev dependency): the benchmark says so otherwise.
import type { Payload } from './ours.js';
import { RESULT } from './ours.js';

type Fn = (payload: Payload) => Promise<unknown>;

export interface TheirRunner {
  /** Calls to the Redis client (each one round trip). */
  calls: number;
  /** Characters of the values it wrote. */
  written: number;
  executions: number;
  /** The idempotent function; `execute` runs inside it when given (the contention and crash rows). */
  run(payload: Payload, execute?: () => Promise<void>): Promise<unknown>;
  close(): Promise<void>;
}

export interface TheirOptions {
  redisUrl: string;
  keyPrefix: string;
  /**
   * The Lambda context's remaining time, which becomes the in-progress expiry. Undefined: no context
   * registered, as when the library is used outside Lambda.
   */
  remainingMs?: number;
}

export async function openTheirs(options: TheirOptions): Promise<TheirRunner> {
  const { makeIdempotent, IdempotencyConfig } = await import('@aws-lambda-powertools/idempotency');
  const { CachePersistenceLayer } = await import('@aws-lambda-powertools/idempotency/cache');
  const { createClient } = await import('@redis/client');
  const client = createClient({ url: options.redisUrl });
  client.on('error', () => {});
  await client.connect();
  const runner: TheirRunner = {
    calls: 0,
    written: 0,
    executions: 0,
    run: async () => undefined,
    close: async () => {
      await client.close();
    },
  };
  // Count round trips at the client the persistence layer uses.
  const counted = {
    get: (key: string) => {
      runner.calls += 1;
      return client.get(key);
    },
    set: (key: string, value: string, opts?: Record<string, unknown>) => {
      runner.calls += 1;
      runner.written += value.length;
      return client.set(key, value, opts as never);
    },
    del: (keys: string[]) => {
      runner.calls += 1;
      return client.del(keys);
    },
  };
  const config = new IdempotencyConfig({ expiresAfterSeconds: 3600 });
  if (options.remainingMs !== undefined) {
    const remaining = options.remainingMs;
    config.registerLambdaContext({ getRemainingTimeInMillis: () => remaining } as never);
  }
  let inside: (() => Promise<void>) | undefined;
  const fn: Fn = makeIdempotent(
    async (_payload: Payload) => {
      runner.executions += 1;
      await inside?.();
      return RESULT;
    },
    {
      persistenceStore: new CachePersistenceLayer({ client: counted as never }),
      config,
      keyPrefix: options.keyPrefix,
    },
  );
  runner.run = (payload, execute) => {
    // Only the contention and crash rows pass `execute`, and they run one payload at a time.
    inside = execute;
    return fn(payload);
  };
  return runner;
}
