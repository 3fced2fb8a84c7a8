// doctor on a redis:// store: the ledger is only as durable as the Redis server. With neither AOF
// (appendonly yes) nor RDB snapshots (save …), a Redis restart silently empties the ledger, and every key
// recorded so far can be sent again as if new: exactly-once is gone without a single error.
import { createClient } from '@keyv/redis';

export type PersistenceVerdict = { status: 'ok' | 'warn' | 'fail'; detail: string };

const FIX =
  'Fix: turn on AOF with CONFIG SET appendonly yes (and CONFIG REWRITE, or appendonly yes in redis.conf so it survives a restart), or RDB snapshots with save "60 1000"; use a managed Redis plan with persistence';

/** The judgement from the two settings, as CONFIG GET answers them. */
export function judgePersistence(settings: { appendonly?: string; save?: string; appendfsync?: string }): PersistenceVerdict {
  const aof = settings.appendonly?.trim().toLowerCase() === 'yes';
  const save = settings.save?.trim() ?? '';
  if (aof) {
    const fsync = settings.appendfsync?.trim().toLowerCase();
    if (fsync === 'no') {
      return { status: 'warn', detail: `AOF is on (appendonly yes) but appendfsync no leaves flushing to the OS: a machine crash can lose recent records. Fix: CONFIG SET appendfsync everysec (or always)` };
    }
    return { status: 'ok', detail: `AOF is on (appendonly yes${fsync ? `, appendfsync ${fsync}` : ''})${save ? `, RDB save "${save}"` : ''}: the ledger survives a Redis restart` };
  }
  if (save !== '') {
    return {
      status: 'warn',
      detail: `RDB snapshots only (save "${save}", appendonly no): a Redis restart loses the records written since the last snapshot, and those keys could be sent again. Fix: CONFIG SET appendonly yes (and appendonly yes in redis.conf)`,
    };
  }
  return {
    status: 'fail',
    detail: `the Redis server keeps nothing across a restart (appendonly no, save ""): a restart silently empties the ledger and recorded keys could be sent again. ${FIX}`,
  };
}

/** Asks the server for its persistence settings; a managed Redis that refuses CONFIG gets a warning. */
export async function checkRedisPersistence(url: string, timeoutMs = 3_000): Promise<PersistenceVerdict> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false }, disableOfflineQueue: true });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = (async () => {
      await client.connect();
      const read = async (name: string) => {
        const answer = (await client.configGet(name)) as Record<string, string>;
        return answer[name];
      };
      return { appendonly: await read('appendonly'), save: await read('save'), appendfsync: await read('appendfsync') };
    })();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    const settings = await Promise.race([work, late]);
    if (settings.appendonly === undefined && settings.save === undefined) throw new Error('CONFIG GET answered nothing');
    return judgePersistence(settings);
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return {
      status: 'warn',
      detail: `could not verify that the Redis server keeps data across a restart: CONFIG GET appendonly/save was refused (${reason}). Make sure it runs with AOF (appendonly yes) or RDB snapshots (save …); without either a restart empties the ledger`,
    };
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => client.destroy());
  }
}
