/**
 * Results of a synthetic run without any network: probes seen at the first `reach(seq)` points of the
 * reference chain's five capture points. Used by the journey, verdict and matcher tests.
 */
import { JourneyTracker } from '../../src/analyze/journey.ts';
import { buildResults } from '../../src/analyze/verdict.ts';

export const POINTS = ['ingress', 'decap', 'nat', 'wire', 'delivered'];
export const HOPS = ['vxlan', 'security', 'security', 'destination', 'destination'];

export interface SyntheticRun {
  count: number;
  /** how many capture points (in order) probe `seq` reaches */
  reach: (seq: number) => number;
  /** ns between probes, and between consecutive points of one probe */
  spacingNs?: bigint;
  hopNs?: bigint;
  injected?: number;
  extra?: (t: JourneyTracker) => void;
  fragmentation?: { maxFragmentBytes: number | null; reassembled: number; expectFragments: boolean };
  spis?: number[];
  /** payload size of probe `seq` (default: none recorded) */
  size?: (seq: number) => number;
  /** ns from capture point i to i + 1 (default hopNs) */
  hopDelayNs?: (i: number) => bigint;
  acceptance?: { minDeliveryRatio: number; maxLatencyP99Ms?: number };
  injectedBySize?: { payloadBytes: number; sent: number }[];
}

export function syntheticResults(o: SyntheticRun) {
  const t = new JourneyTracker({ points: POINTS, windowNs: 1_000_000_000_000n });
  const spacing = o.spacingNs ?? 100_000n;
  const hop = o.hopNs ?? 10_000n;
  for (let seq = 0; seq < o.count; seq++) {
    let at = 1_000_000_000n + BigInt(seq) * spacing;
    for (let p = 0; p < o.reach(seq); p++) {
      t.see({ flowId: 1, seq, point: p, timestampNs: at, payloadBytes: o.size?.(seq) });
      at += o.hopDelayNs?.(p) ?? hop;
    }
  }
  o.extra?.(t);
  return buildResults({
    journey: t.finish(),
    points: POINTS.map((name, i) => ({
      name,
      hop: HOPS[i],
      stage: name,
      packets: 0,
      foreign: 0,
      afterNat: i >= 2,
    })),
    injected: o.injected ?? o.count,
    injectedBySize: o.injectedBySize,
    captureCounters: [],
    acceptance: o.acceptance ?? { minDeliveryRatio: 0.9 },
    fragmentation: {
      mtuBytes: 1400,
      ...(o.fragmentation ?? { maxFragmentBytes: null, reassembled: 0, expectFragments: false }),
    },
    esp: { spis: o.spis ?? [], undecryptable: 0, sequenceRegressions: 0 },
    run: {
      id: 1,
      startedAt: new Date(0).toISOString(),
      durationNs: 0,
      profile: 'test',
      mode: 'offline',
      clock: 'test',
    },
    version: 'test',
  });
}
