// Why a store failed, in classes an agent and an operator can act on: a transient fault (the server is down or
// busy for now) is worth a retry in a few seconds; a permanent one (a missing database, a refused password, a
// path that cannot hold a file, a store that keeps nothing) needs the operator to fix ONCE_STORE.

export type StoreFaultCause =
  // transient: waiting helps
  | 'unreachable'
  | 'timeout'
  | 'busy'
  // permanent: only the operator can fix it
  | 'authentication'
  | 'missing_database'
  | 'permission'
  | 'bad_path'
  | 'read_only'
  | 'disk_full'
  | 'corrupt'
  | 'no_persistence'
  | 'cluster'
  // anything else: treated as transient, as it always was (R9 fails closed either way)
  | 'unknown';

export interface StoreFault {
  cause: StoreFaultCause;
  transient: boolean;
  /** A few words for people: "the password was refused". */
  words: string;
}

const WORDS: Record<StoreFaultCause, string> = {
  unreachable: 'the store server cannot be reached',
  timeout: 'the store did not answer in time',
  busy: 'the store is busy',
  authentication: 'the store refused the user or password',
  missing_database: 'the database does not exist',
  permission: 'the store refused access (permissions)',
  bad_path: 'the path cannot hold a database file',
  read_only: 'the store is read-only',
  disk_full: 'the disk is full',
  corrupt: 'the file is not a usable SQLite database',
  no_persistence: 'the store keeps nothing across a restart',
  cluster: 'the store is a Redis Cluster node, which once-checkout does not support',
  unknown: 'the store failed',
};

const TRANSIENT = new Set<StoreFaultCause>(['unreachable', 'timeout', 'busy', 'unknown']);

export function storeFault(cause: StoreFaultCause): StoreFault {
  return { cause, transient: TRANSIENT.has(cause), words: WORDS[cause] };
}

/** Error code (node, pg SQLSTATE, SQLite) or Redis error prefix → cause. */
const BY_CODE: Record<string, StoreFaultCause> = {
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  EPIPE: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  ETIMEDOUT: 'timeout',
  // PostgreSQL SQLSTATE
  '28P01': 'authentication',
  '28000': 'authentication',
  '3D000': 'missing_database',
  '42501': 'permission',
  '25006': 'read_only',
  '53100': 'disk_full',
  '53300': 'busy',
  '57P01': 'unreachable',
  '57P02': 'unreachable',
  '57P03': 'busy',
  // node fs (creating the SQLite directory)
  EACCES: 'permission',
  EPERM: 'permission',
  ENOTDIR: 'bad_path',
  EISDIR: 'bad_path',
  ENOENT: 'bad_path',
  EEXIST: 'bad_path', // mkdir met a file where a directory of the path should be
  EROFS: 'read_only',
  ENOSPC: 'disk_full',
  // SQLite
  SQLITE_CANTOPEN: 'bad_path',
  SQLITE_READONLY: 'read_only',
  SQLITE_PERM: 'permission',
  SQLITE_AUTH: 'permission',
  SQLITE_FULL: 'disk_full',
  SQLITE_CORRUPT: 'corrupt',
  SQLITE_NOTADB: 'corrupt',
  SQLITE_BUSY: 'busy',
  SQLITE_LOCKED: 'busy',
  SQLITE_IOERR: 'unknown',
};

/** Redis answers carry their class as the first word of the message. */
const REDIS_PREFIX: Array<[RegExp, StoreFaultCause]> = [
  [/^(WRONGPASS|NOAUTH)\b/, 'authentication'],
  [/invalid username-password pair/i, 'authentication'],
  [/AUTH <password> called without any password configured/i, 'authentication'],
  [/^NOPERM\b/, 'permission'],
  [/DB index is out of range/i, 'missing_database'],
  [/^READONLY\b/, 'read_only'],
  [/^(LOADING|BUSY|MASTERDOWN|TRYAGAIN)\b/, 'busy'],
  [/^MISCONF\b/, 'disk_full'],
  [/^(MOVED|ASK|CROSSSLOT)\b/, 'cluster'],
  [/SELECT is not allowed in cluster mode/i, 'cluster'],
];

/** The cause of a store error, looking through wrapped causes (a driver error inside ours). */
export function classifyStoreError(error: unknown): StoreFault {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    if (typeof current !== 'object') break;
    const { code, message } = current as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : '';
    const byCode = typeof code === 'string' ? BY_CODE[code] : undefined;
    if (byCode) return storeFault(byCode);
    const sqlite = /\b(SQLITE_[A-Z]+)\b/.exec(text)?.[1];
    if (sqlite && BY_CODE[sqlite]) return storeFault(BY_CODE[sqlite]);
    for (const [pattern, cause] of REDIS_PREFIX) if (pattern.test(text)) return storeFault(cause);
    if (/timeout|timed out|no answer within/i.test(text)) return storeFault('timeout');
    if (/Connection terminated|connection (is )?closed|Socket closed|The client is closed/i.test(text)) return storeFault('unreachable');
    const nested = (current as { errors?: unknown[] }).errors; // AggregateError from a dual-stack connect
    if (Array.isArray(nested) && nested.length > 0) return classifyStoreError(nested[0]);
    current = (current as { cause?: unknown }).cause;
  }
  return storeFault('unknown');
}
