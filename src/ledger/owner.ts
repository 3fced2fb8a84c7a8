// Who holds a lease: host, process id and a per-process nonce. A holder on this host whose process is gone
// crashed, so its lease need not be waited out; anywhere else, only lease expiry tells.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

const HOST = hostname();

/** This process as a lease owner; all Ledger instances in one process share it. */
export const PROCESS_OWNER = `${HOST}:${process.pid}:${randomUUID().slice(0, 8)}`;

export function ownerIsGone(owner: string): boolean {
  const parts = owner.split(':');
  if (parts.length < 3) return false;
  const nonce = parts.pop()!;
  const pid = Number(parts.pop());
  const host = parts.join(':');
  if (host !== HOST || !Number.isInteger(pid)) return false;
  // The same pid with another nonce is an earlier incarnation (a restarted container's pid 1).
  if (pid === process.pid) return `${HOST}:${pid}:${nonce}` !== PROCESS_OWNER;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
