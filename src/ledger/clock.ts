// Time as a dependency, so tests move it instead of sleeping.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Calls `tick` every `ms` of this clock's time until stopped (lease renewals run on the ledger's clock). */
  every(ms: number, tick: () => void): Repeating;
}

export interface Repeating {
  stop(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref(); // a renewal never keeps the process alive
    return { stop: () => clearInterval(timer) };
  },
};

/**
 * A clock that only moves when told to; `sleep` moves it forward at once (virtual time). What runs `every` so
 * often runs as the clock passes its times: once per move that passes one or more of them.
 */
export class ManualClock implements Clock {
  private readonly repeating = new Set<{ ms: number; nextAt: number; tick: () => void }>();

  constructor(private current = Date.UTC(2026, 10, 28, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.set(this.current + ms);
  }

  set(epochMs: number): void {
    this.current = epochMs;
    for (const entry of [...this.repeating]) {
      if (entry.nextAt > this.current || !this.repeating.has(entry)) continue;
      entry.nextAt = this.current + entry.ms;
      entry.tick();
    }
  }

  async sleep(ms: number): Promise<void> {
    this.advance(ms);
    // Let other tasks run, as a real sleep would.
    await new Promise((resolve) => setImmediate(resolve));
  }

  every(ms: number, tick: () => void): Repeating {
    const entry = { ms, nextAt: this.current + ms, tick };
    this.repeating.add(entry);
    return { stop: () => this.repeating.delete(entry) };
  }
}
