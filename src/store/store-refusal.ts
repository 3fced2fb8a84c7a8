// A store that can never work as configured stops start-up with one line naming ONCE_STORE and the fix; a
// store that only is not there yet (an operator command reading a ledger no server made) says so.
// The store words these lines itself; the CLI exits with them as it does with every configuration mistake.
import { classifyStoreError, type StoreFault } from './store-fault.js';
import { redact, scrubStoreSecrets, type StoreUrl } from './store.js';

/** Where the ledger is, as people write it, without credentials. */
export function storeWhere(url: StoreUrl): string {
  switch (url.kind) {
    case 'sqlite':
      return `sqlite://${url.path}`;
    case 'memory':
      return 'memory://';
    default:
      return redact(url.url);
  }
}

/** ONCE_STORE names a store that cannot be used as configured: one line, `ONCE_STORE: problem. Fix`. */
export class StoreRefusedError extends Error {
  readonly variable = 'ONCE_STORE';

  constructor(problem: string, fix: string) {
    super(`ONCE_STORE: ${problem}. ${fix}`);
    this.name = 'StoreRefusedError';
  }
}

/** `text` with the credentials of the store's URL masked, should a driver's message echo them. */
export function scrubbedFor(url: StoreUrl, text: string): string {
  return url.kind === 'postgres' || url.kind === 'redis' ? scrubStoreSecrets(text, url.url) : text;
}

/** The ledger a reading command was pointed at does not exist: nothing was created. */
export class NoLedgerError extends StoreRefusedError {
  constructor(url: StoreUrl, what: string) {
    super(`no ledger at ${storeWhere(url)} (${what})`, NO_LEDGER_FIX);
    this.name = 'NoLedgerError';
  }
}

const NO_LEDGER_FIX =
  'Point ONCE_STORE at the store the server uses: this command only reads a ledger, and the server creates one when it first starts';

/** A permanent store fault as one configuration line: what is wrong, the driver's words, the fix. */
export function storeRefusal(url: StoreUrl, error: unknown, fault: StoreFault = classifyStoreError(error)): StoreRefusedError {
  const said = oneLine(url, error);
  return new StoreRefusedError(`${storeWhere(url)} cannot be used: ${fault.words}${said ? ` (${said})` : ''}`, fixFor(url, fault));
}

function fixFor(url: StoreUrl, fault: StoreFault): string {
  const path = url.kind === 'sqlite' ? url.path : '';
  switch (fault.cause) {
    case 'authentication':
      return `Fix: correct the user and password in ONCE_STORE, or let this user in on the ${url.kind} server`;
    case 'missing_database':
      return url.kind === 'redis'
        ? 'Fix: use a database number the Redis server has (0-15 unless it sets databases), e.g. redis://host:6379/0'
        : `Fix: create the database (createdb ${databaseName(url)}) or correct its name in ONCE_STORE`;
    case 'permission':
    case 'read_only':
      return url.kind === 'sqlite'
        ? `Fix: make ${path} and its directory writable for this user, or set ONCE_STORE to sqlite:///a/writable/path.db`
        : 'Fix: give this user write access (PostgreSQL: CREATE on the database and its tables; Redis: a writable primary), or correct ONCE_STORE';
    case 'bad_path':
      return `Fix: set ONCE_STORE to sqlite:///absolute/path.db in a directory that exists or can be created (${path} cannot)`;
    case 'disk_full':
      return 'Fix: free disk space on the store, then start again';
    case 'corrupt':
      return `Fix: ${path} is not a once-checkout ledger; move it away or point ONCE_STORE at another file`;
    case 'cluster':
      return 'Fix: point ONCE_STORE at a single Redis (a primary, with replicas if you like), not at a Redis Cluster node';
    case 'no_persistence':
      return 'Fix: turn on AOF (appendonly yes in redis.conf, or CONFIG SET appendonly yes and CONFIG REWRITE) or RDB snapshots, or use postgres:// or sqlite://';
    default:
      return 'Fix: run once-checkout doctor, which checks the store step by step';
  }
}

function databaseName(url: StoreUrl): string {
  if (url.kind !== 'postgres') return 'NAME';
  try {
    return decodeURIComponent(new URL(url.url).pathname.slice(1)) || 'NAME';
  } catch {
    return 'NAME';
  }
}

/** The driver's message, one line, bounded, with the URL's credentials masked should it echo them. */
function oneLine(url: StoreUrl, error: unknown): string {
  let text = scrubbedFor(url, error instanceof Error ? error.message : error === undefined ? '' : String(error));
  text = text.replace(/^store \S+ unavailable: /, '').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
