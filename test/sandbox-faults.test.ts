import { describe, it, expect } from 'vitest';
import { mulberry32, parseFaults, pickFault } from '../src/backends/sandbox/faults.js';
import { readSandboxConfig } from '../src/backends/sandbox/sandbox-config.js';

describe('ONCE_SANDBOX_FAULTS parsing', () => {
  it('parses rates and operation filters into a typed plan', () => {
    expect(parseFaults('lose_response:0.3, timeout:0.1,error_5xx:0.1,crash_after_commit@complete:1')).toEqual({
      rules: [
        { fault: 'lose_response', rate: 0.3 },
        { fault: 'timeout', rate: 0.1 },
        { fault: 'error_5xx', rate: 0.1 },
        { fault: 'crash_after_commit', rate: 1, operation: 'complete' },
      ],
    });
    expect(parseFaults(undefined)).toEqual({ rules: [] });
    expect(parseFaults('  ')).toEqual({ rules: [] });
  });

  it.each([
    ['explode:0.5', /unknown fault 'explode'/],
    ['lose_response:1.5', /rate '1.5' of 'lose_response' is not a number from 0 to 1/],
    ['lose_response:-0.1', /not a number from 0 to 1/],
    ['lose_response:abc', /not a number from 0 to 1/],
    ['lose_response', /is not name\[@operation\]:rate/],
    ['timeout@refund:1', /unknown operation 'refund'/],
    ['timeout:0.1,,', /is not name\[@operation\]:rate/],
  ])('refuses %s with a clear error naming ONCE_SANDBOX_FAULTS and the fix', (text, reason) => {
    expect(() => parseFaults(text)).toThrow(reason);
    expect(() => parseFaults(text)).toThrow(/^ONCE_SANDBOX_FAULTS: .*; set it like 'lose_response:0.3,timeout@complete:1'/);
  });

  it('refuses a seed that is not an integer, naming ONCE_SANDBOX_SEED', () => {
    expect(() => readSandboxConfig({ ONCE_SANDBOX_SEED: 'abc' })).toThrow(/^ONCE_SANDBOX_SEED: 'abc' is not an integer/);
  });
});

describe('fault determinism', () => {
  it('mulberry32 with the same seed gives the same sequence, in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Array.from({ length: 5 }, mulberry32(43))).not.toEqual(xs.slice(0, 5));
  });

  it('the same seed picks the same faults, at about the configured rates', () => {
    const plan = parseFaults('lose_response:0.3,timeout:0.1');
    const run = (seed: number) => {
      const rng = mulberry32(seed);
      return Array.from({ length: 2000 }, () => pickFault(plan, 'complete', rng) ?? 'none');
    };
    const first = run(7);
    expect(run(7)).toEqual(first);
    const lost = first.filter((f) => f === 'lose_response').length / first.length;
    const timeouts = first.filter((f) => f === 'timeout').length / first.length;
    expect(lost).toBeGreaterThan(0.25);
    expect(lost).toBeLessThan(0.35);
    expect(timeouts).toBeGreaterThan(0.04); // 0.7 * 0.1 after lose_response's share
    expect(timeouts).toBeLessThan(0.1);
  });

  it('readSandboxConfig with ONCE_SANDBOX_SEED is reproducible', () => {
    const env = { ONCE_SANDBOX_FAULTS: 'error_5xx:0.5', ONCE_SANDBOX_SEED: '123' };
    const a = readSandboxConfig(env);
    const b = readSandboxConfig(env);
    const picks = (x: typeof a) => Array.from({ length: 50 }, () => pickFault(x.faults, 'create', x.rng));
    expect(picks(a)).toEqual(picks(b));
  });

  it('an operation filter limits a fault to that operation; unfiltered faults spare get', () => {
    const rng = () => 0; // every draw fires
    const plan = parseFaults('lose_response@complete:1,error_5xx:1');
    expect(pickFault(plan, 'complete', rng)).toBe('lose_response');
    expect(pickFault(plan, 'create', rng)).toBe('error_5xx');
    expect(pickFault(plan, 'get', rng)).toBeUndefined();
    expect(pickFault(parseFaults('timeout@get:1'), 'get', rng)).toBe('timeout');
    expect(pickFault(parseFaults('timeout:0'), 'create', rng)).toBeUndefined();
  });
});
