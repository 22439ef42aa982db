import { describe, expect, test } from 'vitest';
import { JourneyTracker } from '../../src/analyze/journey.ts';
import { minimumSamples, wilsonInterval } from '../../src/analyze/stats.ts';
import { POINTS, syntheticResults } from '../helpers/synthetic-run.ts';

const run = (
  count: number,
  reach: (seq: number) => number,
  extra?: (t: JourneyTracker) => void,
  injected = count,
) => syntheticResults({ count, reach, extra, injected });

describe('journeys', () => {
  test('a clean run delivers everything and passes', () => {
    const r = run(100, () => 5);
    expect(r.sent).toBe(100);
    expect(r.delivered).toBe(100);
    expect(r.verdict).toBe('pass');
    expect(r.hops.map((h) => h.seen)).toEqual([100, 100, 100, 100, 100]);
    expect(r.latency.e2e.p50Ns).toBeGreaterThanOrEqual(39_900);
    expect(r.latency.e2e.p50Ns).toBeLessThanOrEqual(40_100);
    expect(r.latency.perHop.map((h) => h.latency.samples)).toEqual([100, 100, 100, 100]);
  });

  test('loss is localised to the segment where probes vanished and names its hop', () => {
    const r = run(200, (seq) => (seq % 2 ? 2 : 5)); // odd probes vanish after decap
    expect(r.delivered).toBe(100);
    expect(r.hops.find((h) => h.name === 'nat')!.lostHere).toBe(100);
    expect(r.verdict).toBe('fail');
    expect(r.faultyHop).toBe('security');
    expect(r.faultySegment).toEqual({ from: 'decap', to: 'nat', lost: 100 });
    expect(r.checks.find((c) => c.name === 'delivery')!.detail).toContain('100 lost between decap and nat');
  });

  test('a probe missing at one capture point but seen later is a capture gap, not loss', () => {
    const t = new JourneyTracker({ points: POINTS });
    for (const p of [0, 1, 3, 4]) t.see({ flowId: 1, seq: 0, point: p, timestampNs: BigInt(p) });
    const j = t.finish();
    expect(j.delivered).toBe(1);
    expect(j.perPoint[2]).toMatchObject({ seen: 0, lostHere: 0, captureGaps: 1 });
  });

  test('probes the injector sent that no capture saw are lost before the first point', () => {
    const r = run(10, () => 5, undefined, 12);
    expect(r.sent).toBe(12);
    expect(r.delivered).toBe(10);
    expect(r.hops[0].lostHere).toBe(2);
    expect(r.faultyHop).toBe('injector');
  });

  test('duplicates and reordering are counted per point', () => {
    const t = new JourneyTracker({ points: ['a'] });
    t.see({ flowId: 1, seq: 1, point: 0, timestampNs: 1n });
    t.see({ flowId: 1, seq: 0, point: 0, timestampNs: 2n });
    t.see({ flowId: 1, seq: 0, point: 0, timestampNs: 3n });
    const j = t.finish();
    expect(j.perPoint[0]).toMatchObject({ seen: 2, duplicates: 1, reordered: 1 });
  });

  test('a violation counts once per probe however many points show it', () => {
    const r = run(
      10,
      () => 5,
      (t) => {
        for (let p = 0; p < 3; p++)
          t.violation({
            kind: 'sourceIp',
            point: p,
            probe: { flowId: 1, seq: 9 },
            reason: 'src 10.9.9.9',
            layers: () => ['IPv4 10.9.9.9 > x'],
          });
      },
    );
    expect(r.sourceIp.violations).toBe(1);
    expect(r.sourceIp.examples).toHaveLength(3);
    expect(r.verdict).toBe('fail');
  });

  test('memory is bounded: folded probes leave the live set', () => {
    const t = new JourneyTracker({ points: ['a', 'b'], windowNs: 1000n });
    for (let seq = 0; seq < 100_000; seq++) {
      t.see({ flowId: 1, seq, point: 0, timestampNs: BigInt(seq) * 100n });
      t.see({ flowId: 1, seq, point: 1, timestampNs: BigInt(seq) * 100n + 50n });
    }
    expect(t.inFlight).toBeLessThan(20);
    expect(t.finish().delivered).toBe(100_000);
  });
});

describe('statistics', () => {
  test('Wilson interval matches a published value (Newcombe 1998: 81/263 → 0.2553–0.3662)', () => {
    const { low, high } = wilsonInterval(81, 263, 0.95);
    expect(low).toBeCloseTo(0.2553, 3);
    expect(high).toBeCloseTo(0.3662, 3);
  });
  test('minimum sample rule: 35 perfect probes are needed to show ≥ 90 % at 95 %', () => {
    expect(minimumSamples(0.9)).toBe(35);
    expect(run(20, () => 5).checks.find((c) => c.name === 'sample size')!.pass).toBe(false);
  });
});

describe('timeline', () => {
  /** probes 1 ms apart for `seconds` s; second k's probes take (k + 1) ms end to end; second 2 loses half */
  function soakLike(seconds: number, maxTimelineBuckets?: number) {
    const t = new JourneyTracker({
      points: ['in', 'out'],
      timelineBucketNs: 1_000_000_000n,
      ...(maxTimelineBuckets ? { maxTimelineBuckets } : {}),
    });
    for (let seq = 0; seq < seconds * 1000; seq++) {
      const at = BigInt(seq) * 1_000_000n;
      const second = Math.floor(seq / 1000);
      t.see({ flowId: 1, seq, point: 0, timestampNs: at });
      if (second === 2 && seq % 2) continue;
      t.see({ flowId: 1, seq, point: 1, timestampNs: at + BigInt(second + 1) * 1_000_000n });
    }
    return t.finish();
  }

  test('one bucket per second with its delivery and end-to-end latency', () => {
    const j = soakLike(300, 3600);
    expect(j.timelineBucketNs).toBe(1e9);
    expect(j.timeline).toHaveLength(300);
    expect(j.timeline[2]).toMatchObject({ sent: 1000, delivered: 500 });
    expect(j.timeline[0].latency).toMatchObject({ samples: 1000 });
    // 2-digit histograms: within 1 % of the true latency
    expect(j.timeline[0].latency!.p99Ns! / 1e6).toBeCloseTo(1, 1);
    expect(j.timeline[199].latency!.p50Ns! / 200e6).toBeCloseTo(1, 1);
    expect(j.timeline[299].latency!.maxNs).toBe(300e6);
  });

  test('merged into wider buckets when there are too many, latencies merged with them', () => {
    const j = soakLike(300);
    expect(j.timeline.length).toBeLessThanOrEqual(120);
    expect(j.timelineBucketNs).toBe(3e9);
    expect(j.timeline[0]).toMatchObject({ sent: 3000, delivered: 2500 });
    expect(j.timeline[0].latency).toMatchObject({ samples: 2500, maxNs: 3e6 });
  });
});
