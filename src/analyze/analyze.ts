/**
 * analyzeCaptures: per-capture-point packet streams (files or live streams) + the profile → results.
 *
 * The streams are merged by capture timestamp (each stream is already in time order), so journeys can
 * be folded in a bounded window and nothing holds the whole run. The same function serves `run`
 * (captures taken by chainprobe) and `analyze` (captures taken elsewhere, e.g. VPP's pcap traces).
 */
import { ChainOracle, type RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import { onReferenceClock, type PointClock, qualifyLatencies } from '../clock/correct.ts';
import { ChainprobeError } from '../errors.ts';
import type { PcapPacket } from '../pcap/packet.ts';
import { readPackets } from '../pcap/reader.ts';
import type { RunResults } from '../report/results.ts';
import type { EspSa } from '../transform/esp-sa.ts';
import { provenance } from '../version.ts';
import { JourneyTracker } from './journey.ts';
import { PointPeeler } from './peel.ts';
import { buildResults, type CaptureCounters } from './verdict.ts';

export interface CaptureInput {
  /** a capture point name of the profile */
  name: string;
  /** a pcap/pcapng file or stream; a run's run.pcapng bundle gives the interface named after the point */
  source: string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** Clock hook (src/clock): this point's clock when it is not the analysing host's (SSH capture points). */
  clock?: PointClock;
}

export interface AnalyzeOptions {
  profile: Profile;
  captures: CaptureInput[];
  /** only probes of this run; default: the first run id seen */
  runId?: number;
  runtimeKeys?: RuntimeSaKey[];
  /** probes the injector sent (live runs) */
  injected?: number;
  /** probes the injector sent per payload size, in the order requested (live runs) */
  injectedBySize?: { payloadBytes: number; sent: number }[];
  captureCounters?: CaptureCounters[];
  run?: Partial<RunResults['run']>;
  version?: string;
  /** probes first seen after this capture time are not followed (an interrupted run's last moments) */
  followUntilNs?: bigint;
  /** also follow non-probe UDP (flow export, fingerprinted payloads) by its own identity (analyze/identify) */
  identify?: boolean;
  /** progress: packets read so far */
  onProgress?: (packets: number) => void;
}

/** What the analysis of one run needs before its first packet (the captures come later, or in segments). */
export interface AnalysisSetup {
  profile: Profile;
  /** the capture points taking part, by name (chain order is the profile's) */
  points: string[];
  runId?: number;
  runtimeKeys?: RuntimeSaKey[];
  followUntilNs?: bigint;
  identify?: boolean;
  /** with `identify`: the identifiers to try (default every one; a replayed capture: 'fingerprint') */
  identifiers?: readonly string[];
  /** timeline bucket width (default 100 ms) and how many buckets at most (default 120; soaks: one per second) */
  timelineBucketNs?: bigint;
  maxTimelineBuckets?: number;
}

/** What only the end of the run knows. */
export interface AnalysisEnd {
  injected?: number;
  injectedBySize?: { payloadBytes: number; sent: number }[];
  captureCounters?: CaptureCounters[];
  run?: Partial<RunResults['run']>;
  version?: string;
  /** the points' clocks, when not the analysing host's */
  clocks?: Record<string, PointClock>;
}

/**
 * One run's analysis, fed packet by packet in capture-time order across points (`push` with the point's
 * index), finished once. `analyzeCaptures` feeds it whole files; a soak feeds it segment after segment of
 * its captures while the run is still going (run/segments.ts), so memory and the wait after the run stay
 * bounded whatever the run's length.
 */
export class CaptureAnalysis {
  readonly points: Profile['captures'];
  private readonly tracker: JourneyTracker;
  private readonly peelers: PointPeeler[];
  private readonly run: { runId: number | null; identify: boolean };
  /** packets pushed so far */
  packets = 0;

  constructor(private readonly setup: AnalysisSetup) {
    const { profile } = setup;
    for (const name of setup.points) {
      if (!profile.captures.some((p) => p.name === name)) {
        throw new ChainprobeError(
          'E_CONFIG',
          `no capture point "${name}" in profile ${profile.name} (it has ${profile.captures.map((p) => p.name).join(', ')})`,
          true,
        );
      }
    }
    // Chain order is the profile's capture order; only the points given take part.
    this.points = profile.captures.filter((c) => setup.points.includes(c.name));
    if (this.points.length === 0) throw new ChainprobeError('E_CONFIG', 'no captures to analyse', true);
    const oracle = new ChainOracle(profile, setup.runtimeKeys ?? []);
    const sas = new Map<number, EspSa>();
    for (const sa of oracle.sas()) sas.set(sa.spi, sa);
    const tuples = oracle.innerTuples();
    const limits = oracle.fragmentLimits();
    const lastStage = profile.stages[profile.stages.length - 1].name;
    const outerMtu = limits.get(lastStage)?.outerMtuBytes ?? null;
    const innerMtu = limits.get(lastStage)?.innerMtuBytes ?? null;
    this.tracker = new JourneyTracker({
      points: this.points.map((p) => p.name),
      followUntilNs: setup.followUntilNs,
      ...(setup.identifiers ? { identifiers: setup.identifiers } : {}),
      ...(setup.timelineBucketNs ? { timelineBucketNs: setup.timelineBucketNs } : {}),
      ...(setup.maxTimelineBuckets ? { maxTimelineBuckets: setup.maxTimelineBuckets } : {}),
    });
    this.run = { runId: setup.runId ?? null, identify: setup.identify ?? false };
    this.peelers = this.points.map(
      (p, index) =>
        new PointPeeler(
          {
            index,
            name: p.name,
            expected: tuples.get(p.stage)!,
            outerMtuBytes: outerMtu,
            innerMtuBytes: innerMtu,
            sas,
          },
          this.run,
          this.tracker,
        ),
    );
  }

  push(index: number, packet: PcapPacket): void {
    this.peelers[index].push(packet);
    this.packets++;
  }

  /** Merges the points' streams (one per point, in `points` order, each in time order) and pushes them. */
  async consume(
    streams: AsyncGenerator<PcapPacket>[],
    onProgress?: (packets: number) => void,
  ): Promise<void> {
    for await (const { index, packet } of mergeByTime(streams)) {
      this.push(index, packet);
      if (this.packets % 100_000 === 0) onProgress?.(this.packets);
      // A soak analyses while its captures run in this process: let their pipes drain now and then (a
      // file's packets come as microtasks, which would otherwise hold the event loop for a whole segment).
      if ((this.packets & 8191) === 0) await new Promise((r) => setImmediate(r));
    }
  }

  /** Probes first seen after `ns` are not followed (an interrupted run whose analysis had begun). */
  followUntil(ns: bigint): void {
    this.tracker.followUntil(ns);
  }

  /** Journeys closed so far (their window has passed): how many, and how many reached the last point. */
  progress(): { sent: number; delivered: number } {
    return this.tracker.progress();
  }

  finish(end: AnalysisEnd = {}): RunResults {
    const { profile } = this.setup;
    const { points, peelers } = this;
    for (const p of peelers) p.flush();
    const journey = this.tracker.finish();
    const fragStage = profile.stages.find((s) => s.transform?.kind === 'fragment');
    const stageAt = (name: string) => profile.stages.findIndex((s) => s.name === name);
    const natStage = profile.stages.findIndex((s) => s.transform?.kind === 'dnat44');
    const tool = provenance();
    const results = buildResults({
      journey,
      points: points.map((p, i) => ({
        name: p.name,
        hop: p.hop,
        stage: p.stage,
        packets: peelers[i].packets,
        foreign: peelers[i].foreign,
        idReuse: peelers[i].idReuse,
        afterNat: natStage >= 0 ? stageAt(p.stage) >= natStage : i > 0,
      })),
      injected: end.injected,
      injectedBySize: end.injectedBySize,
      // a run that follows flow export or fingerprints speaks of datagrams; a probe run of probes
      noun: this.run.identify ? 'datagrams' : 'probes',
      expectNat: natStage >= 0,
      expectEsp: profile.stages.some((s) => s.transform?.kind === 'esp-encrypt'),
      captureCounters: end.captureCounters ?? [],
      acceptance: profile.acceptance,
      fragmentation: {
        mtuBytes: fragStage?.transform?.kind === 'fragment' ? fragStage.transform.mtuBytes : null,
        maxFragmentBytes: Math.max(0, ...peelers.map((p) => p.maxFragmentBytes)) || null,
        reassembled: Math.max(0, ...peelers.map((p) => p.reassembled)),
        incomplete: peelers.reduce((s, p) => s + p.incomplete, 0),
        expectFragments: fragStage !== undefined,
      },
      esp: {
        spis: [...new Set(peelers.flatMap((p) => [...p.spis]))].sort((a, b) => a - b),
        undecryptable: peelers.reduce((s, p) => s + p.undecryptable, 0),
        sequenceRegressions: peelers.reduce((s, p) => s + p.sequenceRegressions, 0),
        sequenceReorders: peelers.reduce((s, p) => s + p.sequenceReorders, 0),
      },
      run: {
        id: this.run.runId ?? 0,
        startedAt:
          journey.firstNs !== null
            ? new Date(Number(journey.firstNs / 1_000_000n)).toISOString()
            : new Date().toISOString(),
        durationNs:
          journey.firstNs !== null && journey.lastNs !== null ? Number(journey.lastNs - journey.firstNs) : 0,
        profile: profile.name,
        mode: 'offline',
        clock: 'capture timestamps (libpcap, ns); all capture points on one host clock',
        ...end.run,
      },
      version: end.version ?? tool.version,
      commit: tool.commit,
    });
    // Clock hook (src/clock): latencies across clocks are rounded to their uncertainty, or withheld.
    return qualifyLatencies(results, end.clocks ?? {});
  }
}

export async function analyzeCaptures(opts: AnalyzeOptions): Promise<RunResults> {
  const analysis = new CaptureAnalysis({ ...opts, points: opts.captures.map((c) => c.name) });
  const streams = analysis.points.map((p) => {
    const { source, clock } = opts.captures.find((c) => c.name === p.name)!;
    return capturePoint(source, p.name, clock);
  });
  await analysis.consume(streams, opts.onProgress);
  return analysis.finish({
    ...opts,
    clocks: Object.fromEntries(opts.captures.flatMap((c) => (c.clock ? [[c.name, c.clock]] : []))),
  });
}

/** A point's packets from a file or stream, errors naming the point, timestamps on the reference clock. */
export function capturePoint(
  source: CaptureInput['source'],
  point: string,
  clock?: PointClock,
): AsyncGenerator<PcapPacket> {
  return onReferenceClock(
    namedErrors(
      pointPackets(source, point),
      `capture "${point}"${typeof source === 'string' ? ` (${source})` : ''}`,
    ),
    clock,
  );
}

/**
 * The packets of one capture point. A pcapng holding an interface named after the point (run.pcapng: one
 * interface block per point) yields only that interface's packets; any other file, all of its packets.
 */
async function* pointPackets(source: CaptureInput['source'], point: string): AsyncGenerator<PcapPacket> {
  let ownInterface: number | null = null;
  const packets = readPackets(source, {
    onInterface: (i) => {
      if (i.name === point && ownInterface === null) ownInterface = i.id;
    },
  });
  for await (const p of packets) if (ownInterface === null || p.interfaceId === ownInterface) yield p;
}

/** With four captures, "malformed pcap at byte 4711" must say which one. */
async function* namedErrors(packets: AsyncGenerator<PcapPacket>, what: string): AsyncGenerator<PcapPacket> {
  try {
    yield* packets;
  } catch (e) {
    if (e instanceof ChainprobeError)
      throw new ChainprobeError(e.code, `${what}: ${e.message}`, e.badInput, e.details);
    throw e;
  }
}

/** k-way merge of time-ordered packet streams. A packet's data view is consumed before its stream advances. */
export async function* mergeByTime(
  streams: AsyncGenerator<PcapPacket>[],
): AsyncGenerator<{ index: number; packet: PcapPacket }> {
  // Primed one after another so that per-stream callbacks (e.g. pcapng interface blocks) come in stream order.
  const heads: (PcapPacket | null)[] = [];
  for (const s of streams) heads.push((await s.next()).value ?? null);
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (best < 0 || h.timestampNs < heads[best]!.timestampNs)) best = i;
    }
    if (best < 0) return;
    yield { index: best, packet: heads[best]! };
    const next = await streams[best].next();
    heads[best] = next.done ? null : next.value;
  }
}
