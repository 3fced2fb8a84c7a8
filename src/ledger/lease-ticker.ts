// One timer renews every lease this process holds on one clock (R7), instead of an interval per call: almost
// every call ends long before its first renewal is due, and creating and clearing a timer per call cost more
// than the rest of the ledger's own work on a fresh run. The timer runs only while some lease is held, and on
// the ledger's clock, so a lease is renewed in the time it is judged by (virtual time in tests).
import { systemClock, type Clock, type Repeating } from './clock.js';

/** One held lease: renewed every `everyMs` until released. */
export interface Renewal {
  readonly everyMs: number;
  dueAt: number;
  readonly renew: () => void;
}

export class LeaseTicker {
  private readonly held = new Set<Renewal>();
  private timer: Repeating | undefined;
  private periodMs = Infinity;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Renews `renew` every `everyMs` of the clock's time from now until released; at most `everyMs / 2` late. */
  hold(everyMs: number, renew: () => void): Renewal {
    const renewal: Renewal = { everyMs, dueAt: this.clock.now() + everyMs, renew };
    this.held.add(renewal);
    const period = Math.max(Math.floor(everyMs / 2), 1);
    if (this.timer === undefined || period < this.periodMs) this.start(period);
    return renewal;
  }

  release(renewal: Renewal): void {
    this.held.delete(renewal);
  }

  private start(periodMs: number): void {
    this.timer?.stop();
    this.periodMs = periodMs;
    this.timer = this.clock.every(periodMs, () => this.tick());
  }

  private tick(): void {
    if (this.held.size === 0) {
      // Stopped lazily, so back-to-back calls share one timer rather than starting one each.
      this.timer?.stop();
      this.timer = undefined;
      this.periodMs = Infinity;
      return;
    }
    const now = this.clock.now();
    for (const renewal of this.held) {
      if (now < renewal.dueAt) continue;
      renewal.dueAt = now + renewal.everyMs;
      renewal.renew();
    }
  }
}

const tickers = new WeakMap<Clock, LeaseTicker>();

/** The ticker of a clock: every ledger and checkout-level claim on that clock shares it (one per process in use). */
export function tickerOf(clock: Clock): LeaseTicker {
  let ticker = tickers.get(clock);
  if (!ticker) tickers.set(clock, (ticker = new LeaseTicker(clock)));
  return ticker;
}
