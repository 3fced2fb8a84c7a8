// Who holds a lease, and when its holder is provably gone (R7). A lease owner is judged crashed only on
// evidence that two live processes cannot share; everything else waits for the lease to expire.
//
// The owner id is `host:pid:nonce:boot=<boot id>:pidns=<pid namespace inode>`. Host name and pid alone prove
// nothing: two containers with the same host name (host networking, or a fixed `hostname:` for replicas),
// each running as pid 1, would take each other's live leases over at once. The boot id (one per kernel boot,
// /proc/sys/kernel/random/boot_id) and the pid namespace (/proc/self/ns/pid) say whether a pid means the same
// process here as there. So an owner is gone only when host, boot id and pid namespace all equal ours, all
// known, and either its pid is ours under another nonce (an earlier incarnation of this process: a
// restarted container's pid 1) or kill(pid, 0) answers ESRCH. Any other owner (another namespace or boot,
// an unreadable field, the old `host:pid:nonce` form) is waited out.
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface OwnerId {
  host: string;
  pid: number;
  nonce: string;
  /** '' when unknown (not Linux, /proc not mounted): such an owner is never judged gone. */
  boot: string;
  pidns: string;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/[^0-9a-f-]/gi, '');
  } catch {
    return '';
  }
}

function pidNamespace(): string {
  try {
    return /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '';
  } catch {
    return '';
  }
}

export function formatOwner(id: OwnerId): string {
  return `${id.host}:${id.pid}:${id.nonce}:boot=${id.boot}:pidns=${id.pidns}`;
}

const CURRENT = /^(.+):(\d+):([^:]+):boot=([0-9a-f-]*):pidns=(\d*)$/i;

/** The owner's parts, or undefined for the old `host:pid:nonce` form and anything else. */
export function parseOwner(owner: string): OwnerId | undefined {
  const match = CURRENT.exec(owner);
  if (!match) return undefined;
  const pid = Number(match[2]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { host: match[1], pid, nonce: match[3], boot: match[4].toLowerCase(), pidns: match[5] };
}

/** This process as a lease owner; all Ledger instances in one process share it. */
export const SELF: OwnerId = { host: hostname(), pid: process.pid, nonce: randomUUID().slice(0, 8), boot: bootId().toLowerCase(), pidns: pidNamespace() };
export const PROCESS_OWNER = formatOwner(SELF);

/** kill(pid, 0): 'gone' only on ESRCH (EPERM means a live process of another user). */
function probe(pid: number): 'alive' | 'gone' {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'gone' : 'alive';
  }
}

/** The judgement, with who we are and the pid probe given (for tests). */
export function judgeOwnerGone(owner: string, self: OwnerId, exists: (pid: number) => 'alive' | 'gone' = probe): boolean {
  const them = parseOwner(owner);
  if (!them) return false; // the old form, or unreadable: no proof, wait for the lease
  if (!self.boot || !self.pidns || !them.boot || !them.pidns) return false;
  if (them.host !== self.host || them.boot !== self.boot || them.pidns !== self.pidns) return false;
  // Same kernel boot and pid namespace: the pid names the same process here as there.
  if (them.pid === self.pid) return them.nonce !== self.nonce;
  return exists(them.pid) === 'gone';
}

export function ownerIsGone(owner: string): boolean {
  return judgeOwnerGone(owner, SELF);
}
