// redis:// and rediss:// — on @keyv/redis. The claim is one command, SET NX GET (Redis 7; a Lua script on
// older servers), so it is one round trip that either inserts, answering nothing back, or returns what is
// there; compare-and-swap and the safe delete are scripts comparing the stored text. Values are stored
// exactly as Keyv stores them, under `once:<key>`.
import { createHash } from 'node:crypto';
import Keyv from 'keyv';
import KeyvRedis, { createClient } from '@keyv/redis';
import { KeyvStore, keyvJson, NAMESPACE, type NativeSteps } from './keyv-store.js';
import { redact } from './store.js';

/** Redis before 7.0 refuses SET NX GET: the same step as a script (nil when it inserted). */
const CLAIM = `if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return false end
return redis.call('GET', KEYS[1])`;
// Compare-and-swap on the write id a text starts with (ARGV[1]). On a fresh run this script is the settle, and
// Redis spends more on a script's call and on each redis.call inside it than on the SET itself: so one call
// writes and hands back what it replaced, and only a mismatch (a take-over fenced us out) puts that back. All
// inside one script, so nobody sees the write that is undone.
const REPLACE_SET_GET = `local old = redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL', 'GET')
if old and string.sub(old, 1, #ARGV[1]) == ARGV[1] then return 1 end
if old then redis.call('SET', KEYS[1], old, 'KEEPTTL') else redis.call('DEL', KEYS[1]) end
return 0`;
/** The same for Redis before 6.2 (no SET … GET): read the write id, then write. */
const REPLACE_GETRANGE = `if redis.call('GETRANGE', KEYS[1], 0, #ARGV[1] - 1) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 end
return 0`;
/** The same on the whole text, for a text without a write id. */
const REPLACE_WHOLE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 end
return 0`;
// cjson is part of every Redis's Lua; a record without the field links to nothing.
const GET_LINKED = `local first = redis.call('GET', KEYS[1])
if not first then return {} end
local ok, decoded = pcall(cjson.decode, first)
local link = ok and type(decoded) == 'table' and type(decoded.value) == 'table' and decoded.value[ARGV[1]]
if type(link) ~= 'string' then return {first} end
local second = redis.call('GET', ARGV[2] .. link)
if not second then return {first} end
return {first, second}`;
const REMOVE_IF = `if redis.call('GETRANGE', KEYS[1], 0, #ARGV[1] - 1) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;
const REMOVE_IF_WHOLE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

/** Fail closed (R9): a refused or silent server rejects within seconds instead of queueing forever. */
const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 3_000;
const CONNECT_RETRIES = 2;
const SCAN_COUNT = 1_000;
const MGET_BATCH = 500;

type Client = ReturnType<typeof createClient>;

/** A SCAN MATCH pattern for a key prefix, with the glob characters escaped. */
export function globPrefix(prefix: string): string {
  return `${prefix.replace(/[\\*?[\]]/g, (c) => `\\${c}`)}*`;
}

/**
 * One client, connected on first use. While Redis is down, commands reject at once (no offline queue)
 * and the next call after a failed connect tries again, so a restarted Redis is picked up. A server that
 * accepts commands but stops answering is cut off by a watchdog: one timer for the connection rather than
 * a timeout per command, which costs more than the command itself at high rates.
 */
class Connection {
  readonly client: Client;
  private connecting: Promise<unknown> | undefined;
  private inFlight = 0;
  private lastProgress = 0;
  /** How many times the watchdog cut the connection: a command that failed across a cut-off timed out. */
  private cutOffs = 0;
  private readonly watchdog: NodeJS.Timeout;

  constructor(url: string) {
    this.client = createClient({
      url,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        // A few quick retries, then give up: the caller gets store_unavailable, the next call reconnects.
        reconnectStrategy: (retries: number) => (retries < CONNECT_RETRIES ? 50 * 2 ** retries : false),
      },
      disableOfflineQueue: true,
    });
    this.client.on('error', () => {}); // every failure also rejects the call that met it; the ledger fails closed
    this.watchdog = setInterval(() => {
      if (this.inFlight > 0 && Date.now() - this.lastProgress > COMMAND_TIMEOUT_MS && this.client.isOpen) {
        this.cutOffs += 1;
        this.client.destroy(); // rejects every command waiting on the silent server
      }
    }, COMMAND_TIMEOUT_MS / 3);
    this.watchdog.unref();
  }

  async ready(): Promise<Client> {
    if (this.client.isReady) return this.client;
    if (!this.client.isOpen && !this.connecting) {
      this.connecting = this.client.connect().finally(() => {
        this.connecting = undefined;
      });
    }
    if (this.connecting) await this.connecting;
    return this.client;
  }

  /** Runs one command on the ready client, watched by the watchdog. */
  async send<T>(command: (client: Client) => Promise<T>): Promise<T> {
    if (this.inFlight === 0) this.lastProgress = Date.now();
    this.inFlight += 1;
    const cutOffs = this.cutOffs;
    try {
      return await command(this.client.isReady ? this.client : await this.ready());
    } catch (error) {
      if (this.cutOffs === cutOffs) throw error;
      throw new Error(`no answer within ${COMMAND_TIMEOUT_MS} ms`, { cause: error });
    } finally {
      this.inFlight -= 1;
      this.lastProgress = Date.now();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    await this.connecting?.catch(() => {});
    if (this.client.isOpen) await this.client.close().catch(() => this.client.destroy());
  }
}

/**
 * A Lua script run by its SHA, loaded on the first NOSCRIPT (after a Redis restart too). Sent as a raw command:
 * the client's typed `evalSha` parses and transforms on every call, which costs more than the script.
 */
function script(source: string) {
  const sha = createHash('sha1').update(source).digest('hex');
  return (client: Client, keys: string[], args: string[]): Promise<unknown> =>
    client.sendCommand(['EVALSHA', sha, String(keys.length), ...keys, ...args]).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.sendCommand(['EVAL', source, String(keys.length), ...keys, ...args]);
    });
}

const claimScript = script(CLAIM);
const replaceSetGetScript = script(REPLACE_SET_GET);
const replaceGetrangeScript = script(REPLACE_GETRANGE);
const replaceWholeScript = script(REPLACE_WHOLE);
const removeIfScript = script(REMOVE_IF);
const removeIfWholeScript = script(REMOVE_IF_WHOLE);
const getLinkedScript = script(GET_LINKED);

export interface RedisStoreOptions {
  /** Claim with the Lua script even where SET NX GET would do (as on Redis before 7.0): for tests. */
  claimByScript?: boolean;
  /** Compare-and-swap without SET … GET even where the server has it (as on Redis before 6.2): for tests. */
  replaceByGetrange?: boolean;
}

export async function openRedisStore(url: string, options: RedisStoreOptions = {}): Promise<KeyvStore> {
  const connection = new Connection(url);
  return new KeyvStore(redact(url), keyvOn(connection), redisSteps(connection, options));
}

/** Keyv on the shared connection, for the plain reads and writes (put, delete). */
function keyvOn(connection: Connection): Keyv {
  // Keyv's own writes (put, delete) go through the same client and throw instead of being swallowed.
  class SharedClientRedis extends KeyvRedis<string> {
    override async getClient() {
      return (await connection.ready()) as unknown as Awaited<ReturnType<KeyvRedis<string>['getClient']>>;
    }
    override set(key: string, value: string, ttl?: number) {
      return connection.send(() => super.set(key, value, ttl));
    }
    override delete(key: string) {
      return connection.send(() => super.delete(key));
    }
  }
  const adapter = new SharedClientRedis(connection.client as never, {
    namespace: NAMESPACE,
    keyPrefixSeparator: ':',
    throwOnConnectError: true,
    throwOnErrors: true,
  });
  adapter.on('error', () => {});
  // The adapter prefixes `once:` itself, so Keyv must not add it again.
  const keyv = new Keyv({ store: adapter, ...keyvJson, useKeyPrefix: false, throwOnErrors: true });
  keyv.on('error', () => {});
  return keyv;
}

/** An older Redis refusing a newer option (SET … NX GET before 7.0, SET … GET before 6.2): nothing was written. */
function refusesSyntax(error: unknown): boolean {
  return error instanceof Error && /syntax error/i.test(error.message);
}

/** The atomic steps, each one command or one script on the shared connection. */
function redisSteps(connection: Connection, options: RedisStoreOptions): NativeSteps {
  let nxGet = !options.claimByScript; // until the server refuses it
  let setGet = !options.replaceByGetrange; // until the server refuses SET … GET inside a script (Redis before 6.2)
  const native: NativeSteps = {
    async claim(rawKey, raw) {
      let there: unknown;
      if (nxGet) {
        try {
          there = await connection.send((client) => client.sendCommand(['SET', rawKey, raw, 'NX', 'GET']));
        } catch (error) {
          if (!refusesSyntax(error)) throw error;
          nxGet = false;
          return native.claim(rawKey, raw);
        }
      } else {
        there = await connection.send((client) => claimScript(client, [rawKey], [raw]));
      }
      // Nothing there before: ours is stored, and needs no echo.
      return there === null || there === undefined ? raw : String(there);
    },
    async replace(rawKey, expected, next) {
      const run = !expected.prefix ? replaceWholeScript : setGet ? replaceSetGetScript : replaceGetrangeScript;
      try {
        return Number(await connection.send((client) => run(client, [rawKey], [expected.text, next]))) === 1;
      } catch (error) {
        if (run !== replaceSetGetScript || !refusesSyntax(error)) throw error;
        setGet = false;
        return native.replace(rawKey, expected, next);
      }
    },
    async removeIf(rawKey, expected) {
      const run = expected.prefix ? removeIfScript : removeIfWholeScript;
      return Number(await connection.send((client) => run(client, [rawKey], [expected.text]))) === 1;
    },
    async get(rawKey) {
      return (await connection.send((client) => client.get(rawKey))) ?? undefined;
    },
    async getMany(rawKeys) {
      const values = await connection.send((client) => client.mGet([...rawKeys]));
      return values.map((raw) => (raw === null || raw === undefined ? undefined : String(raw)));
    },
    async getLinked(rawKey, field, rawPrefix) {
      // The linked key is computed inside the script, so it cannot be declared in KEYS: fine on one Redis,
      // and this store does not run on Redis Cluster.
      const found = (await connection.send((client) => getLinkedScript(client, [rawKey], [field, rawPrefix]))) as unknown[];
      return [found[0] === undefined ? undefined : String(found[0]), found[1] === undefined ? undefined : String(found[1])];
    },
    async *entries(rawPrefix) {
      // SCAN has no order; the other stores yield by key, so collect the keys, sort, then read in batches.
      const keys: string[] = [];
      let cursor = '0';
      do {
        const page = await connection.send((client) => client.scan(cursor, { MATCH: globPrefix(rawPrefix), COUNT: SCAN_COUNT }));
        cursor = String(page.cursor);
        keys.push(...page.keys.map(String));
      } while (cursor !== '0');
      keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (let i = 0; i < keys.length; i += MGET_BATCH) {
        const batch = keys.slice(i, i + MGET_BATCH);
        const values = await connection.send((client) => client.mGet(batch));
        for (let j = 0; j < batch.length; j++) {
          const raw = values[j];
          if (raw !== null && raw !== undefined) yield [batch[j], String(raw)]; // deleted since the scan: skip
        }
      }
    },
    close: () => connection.close(),
  };
  return native;
}
