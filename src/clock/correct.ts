/**
 * Putting captures from several clocks on one: the analysis calls `onReferenceClock` on each capture
 * point's packet stream (subtracting that point's offset, drift included, from every timestamp) and
 * `qualifyLatencies` on the results, so that a latency between points on different clocks is never
 * stated finer than the sum of their uncertainties: values are rounded to that resolution, values below
 * it are withheld (null) and the note says why.
 */
import type { PcapPacket } from '../pcap/packet.ts';
import type { LatencySummary, RunResults } from '../report/results.ts';
import { ClockTrack } from './drift.ts';
import { type ClockOffset, formatDuration, formatOffset } from './offset.ts';

/** A capture point's clock: a fixed offset, or one tracked over the run. `host` groups points on one clock. */
export interface PointClock {
  host: string;
  offset: ClockOffset | ClockTrack;
}

const offsetAt = (c: PointClock, atNs: number): ClockOffset =>
  c.offset instanceof ClockTrack ? c.offset.at(atNs) : c.offset;

export async function* onReferenceClock(
  packets: AsyncIterable<PcapPacket>,
  clock: PointClock | undefined,
): AsyncGenerator<PcapPacket> {
  if (!clock) return yield* packets;
  const fixed = clock.offset instanceof ClockTrack ? undefined : BigInt(Math.round(clock.offset.offsetNs));
  for await (const p of packets) {
    const shift = fixed ?? BigInt(Math.round(offsetAt(clock, Number(p.timestampNs)).offsetNs));
    yield shift === 0n ? p : { ...p, timestampNs: p.timestampNs - shift };
  }
}

/** Uncertainty of a latency measured between two points (0 on one clock). */
export function pairUncertaintyNs(a: PointClock | undefined, b: PointClock | undefined, atNs = 0): number {
  if (!a && !b) return 0;
  if (a && b && a.host === b.host) return 0;
  return (a ? offsetAt(a, atNs).uncertaintyNs : 0) + (b ? offsetAt(b, atNs).uncertaintyNs : 0);
}

const FIELDS = ['p50Ns', 'p90Ns', 'p99Ns', 'p999Ns', 'minNs', 'maxNs', 'meanNs'] as const;

/** Round a summary to `u` and withhold what is below it. */
export function qualifyLatency(s: LatencySummary, u: number): LatencySummary {
  if (u <= 0 || s.samples === 0) return s;
  const out: LatencySummary = { ...s, clockUncertaintyNs: u };
  const withheld: string[] = [];
  for (const f of FIELDS) {
    const v = s[f];
    if (v === null) continue;
    if (Math.abs(v) < u) {
      out[f] = null;
      withheld.push(f.replace(/Ns$/, ''));
    } else out[f] = Math.round(v / u) * u;
  }
  const note = withheld.length
    ? `across clocks ± ${formatDuration(u)}: ${withheld.join(', ')} below the clock uncertainty, not reported; others rounded to it`
    : `across clocks: values rounded to the clock uncertainty ± ${formatDuration(u)}`;
  out.note = s.note ? `${s.note}; ${note}` : note;
  return out;
}

export function qualifyLatencies(r: RunResults, clocks: Record<string, PointClock>): RunResults {
  const names = Object.keys(clocks);
  if (names.length === 0) return r;
  const at = Date.parse(r.run.startedAt) * 1e6;
  const first = r.hops[0]?.name;
  const last = r.hops[r.hops.length - 1]?.name;
  const e2eUncertaintyNs = pairUncertaintyNs(clocks[first], clocks[last], at);
  const described = [...new Map(names.map((n) => [clocks[n].host, offsetAt(clocks[n], at)])).entries()]
    .map(
      ([host, o]) =>
        `${host} ${formatOffset(o)} (${o.method}${o.driftPpm !== undefined ? `, drift ${o.driftPpm.toFixed(2)} ppm` : ''})`,
    )
    .join('; ');
  return {
    ...r,
    run: { ...r.run, clock: `capture timestamps corrected per host: ${described}` },
    latency: {
      ...r.latency,
      clock: `per-host clock offsets applied: ${described}`,
      e2e: qualifyLatency(r.latency.e2e, e2eUncertaintyNs),
      perHop: r.latency.perHop.map((h) => ({
        ...h,
        latency: qualifyLatency(h.latency, pairUncertaintyNs(clocks[h.from], clocks[h.to], at)),
      })),
    },
    // the timeline's per-bucket end-to-end latency follows the same rule as the run's
    timeline: r.timeline.map((b) => {
      if (!b.latency || e2eUncertaintyNs <= 0) return b;
      const u = e2eUncertaintyNs;
      const q = (v: number | null) => (v === null || Math.abs(v) < u ? null : Math.round(v / u) * u);
      return {
        ...b,
        latency: {
          ...b.latency,
          p50Ns: q(b.latency.p50Ns),
          p99Ns: q(b.latency.p99Ns),
          maxNs: q(b.latency.maxNs),
        },
      };
    }),
  };
}
