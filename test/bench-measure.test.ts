// The paired comparison the benchmark's targets are judged on: which way is better, the median of the
// per-pair ratios, and a side called ahead only when the interquartile range says so.
import { describe, expect, it } from 'vitest';
import { blocks, compare, pairedWindows } from '../src/bench/measure.js';

describe('bench: paired windows', () => {
  it('an advantage above 1 means ours is better, for ops/s (higher) and for ms (lower) alike', () => {
    const rate = compare('ops', 'ops/s', 'higher', [110, 120, 130], [100, 100, 100]);
    expect(rate.advantage.median).toBe(1.2);
    expect(rate.ahead).toBe('ours');
    const time = compare('p50', 'ms', 'lower', [0.1, 0.1, 0.1], [0.15, 0.2, 0.25]);
    expect(time.advantages).toEqual([1.5, 2, 2.5]);
    expect(time.ahead).toBe('ours');
    expect(compare('p50', 'ms', 'lower', [0.2, 0.2, 0.2], [0.1, 0.1, 0.1]).ahead).toBe('theirs');
  });

  it('one lucky window moves neither the median nor the verdict', () => {
    const c = compare('ops', 'ops/s', 'higher', [90, 91, 300, 92, 89], [100, 100, 100, 100, 100]);
    expect(c.advantage.median).toBe(0.91);
    expect(c.advantage.max).toBe(3);
    expect(c.ahead).toBe('theirs');
    expect(compare('ops', 'ops/s', 'higher', [80, 120, 95, 105], [100, 100, 100, 100]).ahead).toBe('unclear');
  });

  it('windows alternate ABAB with the order swapped every pair; blocks split alternating samples', async () => {
    const order: string[] = [];
    const pairs = await pairedWindows(
      4,
      async (i) => (order.push(`a${i}`), i),
      async (i) => (order.push(`b${i}`), 10 + i),
    );
    expect(order).toEqual(['a0', 'b0', 'b1', 'a1', 'a2', 'b2', 'b3', 'a3']);
    expect(pairs).toEqual({ a: [0, 1, 2, 3], b: [10, 11, 12, 13] });
    expect(blocks([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2], [3, 4], [5, 6]]);
  });
});
