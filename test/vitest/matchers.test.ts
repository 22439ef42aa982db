import { describe, expect, test } from 'vitest';
import '../../src/vitest/matchers.ts';
import { parseDurationNs } from '../../src/vitest/matchers.ts';
import { syntheticResults } from '../helpers/synthetic-run.ts';

const results = (count: number, reach: (seq: number) => number) =>
  syntheticResults({
    count,
    reach,
    spacingNs: 100_000n,
    hopNs: 20_000n,
    fragmentation: { maxFragmentBytes: 1396, reassembled: count, expectFragments: true },
    spis: [1000],
  });

describe('chain matchers', () => {
  const good = results(100, () => 5);
  const lossy = results(100, (s) => (s % 3 === 0 ? 3 : 5)); // a third vanish between nat and wire

  test('pass on a clean run', () => {
    expect(good).toDeliverAtLeast(0.9);
    expect(good).toPreserveSourceIp();
    expect(good).toFragmentWithin(1400);
    expect(good).toLoseNothingBetween('ingress', 'delivered');
    expect(good).toHaveLatency({ p50: '100us', p99: '1ms' });
    expect(good).toHaveLatency({ max: '25us' }, { from: 'ingress', to: 'decap' });
    expect(good).toPassVerdict();
  });

  test('fail with the funnel and the hop named', () => {
    expect(() => expect(lossy).toDeliverAtLeast(0.9)).toThrowError(
      /between nat and wire \(hop "security"\)[\s\S]*wire .*34 lost after nat/,
    );
    expect(() => expect(lossy).toLoseNothingBetween('decap', 'delivered')).toThrowError(/34 probes vanished/);
    expect(lossy).toLoseNothingBetween('ingress', 'nat');
    expect(lossy).toBlameHop('security');
    expect(() => expect(good).toBlameHop('security')).toThrowError(/got verdict pass/);
    expect(() => expect(good).toFragmentWithin(1000)).toThrowError(/largest fragment 1396 B \(limit 1000\)/);
    expect(() => expect(good).toHaveLatency({ p50: '10us' })).toThrowError(/p50 80\.\d µs > 10\.0 µs/);
    expect(() => expect(lossy).toPassVerdict()).toThrowError(/✘ delivery/);
  });

  test('durations', () => {
    expect(parseDurationNs('5ms')).toBe(5_000_000);
    expect(parseDurationNs('250µs')).toBe(250_000);
    expect(() => parseDurationNs('5 parsecs')).toThrowError(/not a duration/);
  });
});
