// The TTL sweep on a timer: every 15 minutes the ledger purges expired settled records; it never touches
// pending or unknown ones (R8).
import type { Logger } from '../log.js';
import type { Ledger } from './ledger.js';

const SWEEP_EVERY_MS = 15 * 60_000;

/** Starts the periodic sweep (it never keeps the process alive); the returned function stops it. */
export function startSweepTimer(ledger: Ledger, logger: Logger, scrub: (message: string) => string): () => void {
  const timer = setInterval(() => {
    ledger.sweep().then(
      (swept) => logger.log('debug', 'sweep', swept),
      (error: Error) => logger.log('warn', 'sweep_failed', { message: scrub(error.message) }),
    );
  }, SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
