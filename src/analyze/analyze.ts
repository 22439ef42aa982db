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

export async function analyzeCaptures(opts: AnalyzeOptions): Promise<RunResults> {
  const { profile } = opts;
  // Chain order is the profile's capture order; only the points given take part.
  const points = profile.captures.filter((c) => opts.captures.some((i) => i.name === c.name));
  for (const c of opts.captures) {
    if (!profile.captures.some((p) => p.name === c.name)) {
      throw new ChainprobeError(
        'E_CONFIG',
        `no capture point "${c.name}" in profile ${profile.name} (it has ${profile.captures.map((p) => p.name).join(', ')})`,
        true,
      );
    }
  }
  if (points.length === 0) throw new ChainprobeError('E_CONFIG', 'no captures to analyse', true);

  const oracle = new ChainOracle(profile, opts.runtimeKeys ?? []);
  const sas = new Map<number, EspSa>();
  for (const sa of oracle.sas()) sas.set(sa.spi, sa);
  const tuples = oracle.innerTuples();
  const limits = oracle.fragmentLimits();
  const lastStage = profile.stages[profile.stages.length - 1].name;
  const outerMtu = limits.get(lastStage)?.outerMtuBytes ?? null;
  const innerMtu = limits.get(lastStage)?.innerMtuBytes ?? null;

  const tracker = new JourneyTracker({
    points: points.map((p) => p.name),
    followUntilNs: opts.followUntilNs,
  });
  const run = { runId: opts.runId ?? null, identify: opts.identify ?? false };
  const peelers = points.map(
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
        run,
        tracker,
      ),
  );
  const streams = points.map((p) => {
    const { source, clock } = opts.captures.find((c) => c.name === p.name)!;
    return onReferenceClock(
      namedErrors(
        pointPackets(source, p.name),
        `capture "${p.name}"${typeof source === 'string' ? ` (${source})` : ''}`,
      ),
      clock,
    );
  });
  let n = 0;
  for await (const { index, packet } of mergeByTime(streams)) {
    peelers[index].push(packet);
    if (++n % 100_000 === 0) opts.onProgress?.(n);
  }
  for (const p of peelers) p.flush();
  const journey = tracker.finish();

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
    injected: opts.injected,
    injectedBySize: opts.injectedBySize,
    expectNat: natStage >= 0,
    expectEsp: profile.stages.some((s) => s.transform?.kind === 'esp-encrypt'),
    captureCounters: opts.captureCounters ?? [],
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
      id: run.runId ?? 0,
      startedAt:
        journey.firstNs !== null
          ? new Date(Number(journey.firstNs / 1_000_000n)).toISOString()
          : new Date().toISOString(),
      durationNs:
        journey.firstNs !== null && journey.lastNs !== null ? Number(journey.lastNs - journey.firstNs) : 0,
      profile: profile.name,
      mode: 'offline',
      clock: 'capture timestamps (libpcap, ns); all capture points on one host clock',
      ...opts.run,
    },
    version: opts.version ?? tool.version,
    commit: tool.commit,
  });
  // Clock hook (src/clock): latencies across clocks are rounded to their uncertainty, or withheld.
  const clocks = Object.fromEntries(opts.captures.flatMap((c) => (c.clock ? [[c.name, c.clock]] : [])));
  return qualifyLatencies(results, clocks);
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
