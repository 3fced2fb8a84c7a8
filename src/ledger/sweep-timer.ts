// The TTL sweep on a timer: every 15 minutes the ledger purges expired settled records; it never touches
// pending or unknown ones (R8). Then the backend deletes what it keeps beside them, where it keeps anything.
import type { Logger } from '../log.js';
import type { Ledger } from './ledger.js';

/** What the sweep asks of the backend (a Backend has it as an optional method). */
interface Sweeps {
  sweep?(now: number): Promise<number>;
}

const SWEEP_EVERY_MS = 15 * 60_000;

/** Starts the periodic sweep (it never keeps the process alive); the returned function stops it. */
export function startSweepTimer(ledger: Ledger, backend: Sweeps, logger: Logger, scrub: (message: string) => string): () => void {
  const timer = setInterval(() => {
    sweepOnce(ledger, backend).then(
      (swept) => logger.log('debug', 'sweep', swept),
      (error: Error) => logger.log('warn', 'sweep_failed', { message: scrub(error.message) }),
    );
  }, SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The ledger's sweep, then the backend's: how many records were deleted and kept, and backend entries deleted. */
export async function sweepOnce(ledger: Ledger, backend: Sweeps): Promise<{ deleted: number; kept: number; backend: number }> {
  const records = await ledger.sweep();
  return { ...records, backend: (await backend.sweep?.(ledger.clock.now())) ?? 0 };
}
