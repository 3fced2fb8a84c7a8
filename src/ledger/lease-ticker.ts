// One timer renews every lease this process holds (R7), instead of an interval per call: almost every call
// ends long before its first renewal is due, and creating and clearing a timer per call cost more than the
// rest of the ledger's own work on a fresh run. The timer runs only while some lease is held.

/** One held lease: renewed every `everyMs` until released. */
export interface Renewal {
  readonly everyMs: number;
  dueAt: number;
  readonly renew: () => void;
}

export class LeaseTicker {
  private readonly held = new Set<Renewal>();
  private timer: NodeJS.Timeout | undefined;
  private periodMs = Infinity;

  /** Renews `renew` every `everyMs` (real time) from now until released; at most `everyMs / 2` late. */
  hold(everyMs: number, renew: () => void): Renewal {
    const renewal: Renewal = { everyMs, dueAt: Date.now() + everyMs, renew };
    this.held.add(renewal);
    const period = Math.max(Math.floor(everyMs / 2), 1);
    if (this.timer === undefined || period < this.periodMs) this.start(period);
    return renewal;
  }

  release(renewal: Renewal): void {
    this.held.delete(renewal);
  }

  private start(periodMs: number): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.periodMs = periodMs;
    this.timer = setInterval(() => this.tick(), periodMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.held.size === 0) {
      // Stopped lazily, so back-to-back calls share one timer rather than starting one each.
      clearInterval(this.timer);
      this.timer = undefined;
      this.periodMs = Infinity;
      return;
    }
    const now = Date.now();
    for (const renewal of this.held) {
      if (now < renewal.dueAt) continue;
      renewal.dueAt = now + renewal.everyMs;
      renewal.renew();
    }
  }
}

/** The process's ticker: every ledger and checkout-level claim here shares it. */
export const leaseTicker = new LeaseTicker();
