/**
 * One live run against a chain: capture at every point → inject probes → stop captures → analyse.
 *
 *   profile ─► captures (tcpdump through each hop's transport, teed to pcaps/, start barrier)
 *           ─► injector (l2 | raw | tcpreplay) sending templated probes at the asked rate
 *           ─► captures stopped (settle, kernel counters) ─► a CaptureAnalysis over the teed files
 *           ─► results (+ one pcapng with an interface block per capture point)
 *
 * The analysis reads the teed files after the run rather than the live streams: the k-way merge needs
 * every stream's next packet, which a live stream can only promise once the run is over. The captures
 * still stream (nothing holds a capture in memory), and the tee is what the report links to anyway.
 * A soak (segmentSeconds) cuts the captures into segments analysed while the run goes (run/segments.ts).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureAnalysis, capturePoint } from '../analyze/analyze.ts';
import {
  type CapturePointResult,
  type CaptureSession,
  captureRequestForPoint,
  startCaptureSession,
} from '../capture/index.ts';
import { ChainOracle, type RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import type { PointClock } from '../clock/correct.ts';
import { type ClockOffset, ClockTrack, exchangeClockOffset, formatOffset } from '../clock/index.ts';
import { createVxlanTemplate, type ProbeTemplate } from '../codec/template.ts';
import {
  acquireChainLock,
  type ChainDriver,
  type CounterDelta,
  counterDelta,
  describeFault,
  describeHolder,
  driverFor,
} from '../drivers/index.ts';
import { ChainprobeError } from '../errors.ts';
import { L2Injector } from '../inject/l2.ts';
import { type RunIdentity, runIdentity } from '../inject/plan.ts';
import { RawInjector } from '../inject/raw.ts';
import { TcpreplayInjector } from '../inject/tcpreplay.ts';
import type { FrameSource, Injector, InjectStats } from '../inject/types.ts';
import type { ActiveFault, RunResults } from '../report/results.ts';
import { openTransport } from '../transport/index.ts';
import type { Transport } from '../transport/transport.ts';
import { collectorSection } from './collector-check.ts';
import { describeTraffic, type FlowTraffic, flowExportFrames, requestedTraffic } from './flow-frames.ts';
import {
  attachLossExplanations,
  attachPacketTraces,
  explainLossByCounters,
  hopCounters,
} from './loss-counters.ts';
import { writeRunPcapng } from './pcapng-bundle.ts';
import { SegmentAnalyser } from './segments.ts';

export type InjectorKind = 'l2' | 'raw' | 'tcpreplay';

/** Which captures stay on disk after the run: all, only when the verdict fails, or none. */
export type KeepCaptures = 'always' | 'on-failure' | 'never';

export interface RunOptions {
  profile: Profile;
  /** probes to send (default: pps × durationS, or 1000) */
  count?: number;
  durationS?: number;
  pps: number;
  /** inner UDP payload sizes; probes cycle through them (e.g. [100, 8000]) */
  payloadBytes: number[];
  injector?: InjectorKind;
  runtimeKeys?: RuntimeSaKey[];
  /** the chain's driver (default: the one the profile names): lock, counters, capture places */
  driver?: ChainDriver;
  /** another run (or chain verb) holds the chain: wait for it instead of refusing */
  waitForLock?: boolean;
  /** where the per-point pcaps and the bundle go */
  captureDir: string;
  runId?: number;
  /** default: derived from the run id (see runIdentity) */
  flowId?: number;
  allowOutsideLab?: boolean;
  /** faults active on the chain during the run (recorded in the results; the chain's driver knows them) */
  faults?: ActiveFault[];
  /** the command line that started the run, recorded in the results */
  commandLine?: string[];
  /** default 'always' */
  keepCaptures?: KeepCaptures;
  /**
   * Aborting stops the injection; the captures are stopped and what they hold is analysed and returned,
   * marked interrupted (a Ctrl-C still gets a report).
   */
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (p: { sent: number; elapsedNs: number; total: number }) => void;
  /** arm the data plane's packet trace of this many packets per hop (VPP), and report what it shows */
  packetTrace?: number;
  /** Transports already open (a ChainSession's, keyed by hop name and '__injector'): used, not closed. */
  transports?: ReadonlyMap<string, Transport>;
  /** Write the per-run pcapng bundle (default true). */
  bundle?: boolean;
  /**
   * Flow export instead of probes (run/flow-frames.ts): the mix's exporters in the profile's VXLAN, followed
   * by their own identity at every capture point, and checked against the chain's collectors if it has any.
   */
  traffic?: FlowTraffic;
  /**
   * Soak: cut every capture into segments of this many seconds, analysed and deleted while the run goes
   * (run/segments.ts): disk and the wait after the run stay bounded; the first segment is kept as a sample.
   */
  segmentSeconds?: number;
  /** timeline buckets (default 100 ms, merged to ≤ 120); a soak asks for 1 s buckets, all of them */
  timeline?: { bucketNs: bigint; maxBuckets: number };
  /** live state every second while injecting: packets per capture point so far, segments analysed */
  onLive?: (l: LiveState) => void;
}

/** What a long run shows while it goes (the soak's progress line). */
export interface LiveState {
  /** datagrams (probes) the injector has sent so far */
  sent: number;
  /** packets each capture point has taken so far (first and last point: offered and delivered) */
  packetCounts: Map<string, number>;
  /** segmented runs: the analysis so far (delivery of the journeys it has closed) */
  analysed?: { segments: number; throughNs: bigint; sent: number; delivered: number };
  bytesOnDisk: number;
  rssBytes: number;
}

export interface RunOutcome {
  results: RunResults;
  inject: InjectStats;
  captureStats: CapturePointResult[];
  /** what the chain's own counters say happened during the run (null: the driver has none; see note) */
  counters: CounterDelta | null;
  countersNote?: string;
  pcapPaths: Record<string, string>;
  pcapng: string | null;
}

export async function runChain(o: RunOptions): Promise<RunOutcome> {
  const { profile } = o;
  const log = o.log ?? (() => {});
  const identity = runIdentity(o.runId ?? (Math.random() * 0xffffffff) >>> 0, o.flowId);
  const { runId } = identity;
  const count = o.count ?? (o.durationS ? Math.round(o.pps * o.durationS) : 1000);
  if (o.payloadBytes.length === 0)
    throw new ChainprobeError('E_CONFIG', 'at least one payload size is needed', true);
  const oracle = new ChainOracle(profile, o.runtimeKeys ?? []);
  oracle.sas(); // a missing runtime key fails before anything starts
  let stopRequestedNs: bigint | null = null; // wall clock, as the capture timestamps
  o.signal?.addEventListener(
    'abort',
    () => {
      stopRequestedNs = BigInt(Date.now()) * 1_000_000n;
    },
    { once: true },
  );
  mkdirSync(o.captureDir, { recursive: true });
  const frameKind = o.injector === 'raw' ? 'ipv4' : 'ethernet';
  // flow export: built up front (a bad mix fails before anything starts; the captures need its ports)
  const flow = o.traffic ? flowExportFrames(oracle, o.traffic, identity, frameKind, o.pps) : null;

  const driver = o.driver ?? driverFor(profile);
  // One run per chain: a second one would mix its packets with ours (and `chain up` would wreck both).
  // Re-entrant in one process: a ChainSession's trials take it again under the session's hold.
  const lock = await acquireChainLock(driver.lockName, 'run', {
    wait: o.waitForLock,
    onWait: (h) => log(`waiting for ${describeHolder(h)}…`),
  });
  const owned = !o.transports;
  const transports = new Map<string, Transport>(o.transports ?? []);
  let captures: CaptureSession | undefined;
  const pcapPaths: Record<string, string> = {};
  const timers: NodeJS.Timeout[] = []; // live progress and the soak's segment loop: cleared however the run ends
  try {
    if (owned) await openChainTransports(profile, transports);
    const injectorTransport = transports.get(INJECTOR_TRANSPORT)!;

    // 1. every capture point listening before the first probe leaves (where the driver says it can be)
    const requests = [];
    for (const c of profile.captures) {
      pcapPaths[c.name] = join(o.captureDir, `${c.name}.pcap`);
      const moved = await driver.capturePlace?.(c);
      if (moved) transports.set(`__capture:${c.name}`, await openTransport(moved.transport));
      requests.push({
        ...captureRequestForPoint(profile, c, transports.get(c.hop)!, {
          pcapPath: pcapPaths[c.name],
          bufferKiB: 32 * 1024,
          ...(flow ? { flowPorts: flow.exporters.map((e) => e.dstPort) } : {}),
          ...(moved ? { place: { ...moved, transport: transports.get(`__capture:${c.name}`)! } } : {}),
        }),
        ...(o.segmentSeconds ? { segmentNs: BigInt(Math.round(o.segmentSeconds * 1e9)) } : {}),
      });
    }
    // points on another host (SSH) stamp with that host's clock: its offset to ours, measured over the
    // transport before the run (NTP-style, minimum RTT; src/clock/exchange.ts)
    const hostClocks = new Map<string, PointClock>();
    for (const c of profile.captures) {
      const hop = profile.hops.find((h) => h.name === c.hop);
      if (hop?.transport.kind !== 'ssh' || hostClocks.has(hop.name)) continue;
      const t = transports.get(hop.name)!;
      const offset = await exchangeClockOffset(t);
      log(`clock of ${t.description}: ${formatOffset(offset)} against this host (${offset.method})`);
      hostClocks.set(hop.name, { host: t.description, offset });
    }
    const countersBefore = await snapshotCounters(driver);
    // the collectors' view must cover this run only
    if (o.traffic) await driver.resetCollectors?.();
    if (o.packetTrace) {
      if (!driver.armTrace)
        throw new ChainprobeError(
          'E_CONFIG',
          `the ${driver.name} driver has no packet trace (--vpp-trace needs VPP hops)`,
          true,
        );
      await driver.armTrace(o.packetTrace);
    }
    const captureStartNs = BigInt(Date.now()) * 1_000_000n;
    captures = await startCaptureSession(requests);
    log(
      `capturing at ${requests.map((r) => `${r.point.name} (${r.interface} at ${r.transport.description})`).join(', ')}`,
    );
    for (const r of requests) if (r.relocated) log(r.relocated);
    // a soak's analysis starts now and follows the captures segment by segment
    const analysis = new CaptureAnalysis({
      profile,
      points: profile.captures.map((c) => c.name),
      runId,
      runtimeKeys: o.runtimeKeys,
      ...(o.traffic
        ? { identify: true, ...(flow?.identifiers ? { identifiers: flow.identifiers } : {}) }
        : {}),
      ...(o.timeline
        ? { timelineBucketNs: o.timeline.bucketNs, maxTimelineBuckets: o.timeline.maxBuckets }
        : {}),
    });
    const segmented = o.segmentSeconds
      ? segmentAnalyser(captures, analysis, captureStartNs, pointClocks(profile, hostClocks))
      : null;
    if (segmented) timers.push(segmented.start());
    let sentSoFar = 0;
    const live = o.onLive ? liveReporter(captures, analysis, segmented, () => sentSoFar, o.onLive) : null;
    if (live) timers.push(live);

    // 2. inject
    const frames = flow ?? probeFrames(oracle, o.payloadBytes, identity, frameKind);
    const injector = makeInjector(o.injector ?? 'l2', profile, injectorTransport, o);
    log(
      `injecting ${count} ${o.traffic ? `flow-export datagrams (${describeTraffic(o.traffic)})` : `probes (${o.payloadBytes.join('/')} B)`} at ${o.pps} pps with the ${injector.name} injector, run id ${runId}`,
    );
    const inject = await injector.inject(frames, {
      ratePps: o.pps,
      count,
      signal: o.signal,
      onProgress: (p) => {
        sentSoFar = p.sent;
        o.onProgress?.({ ...p, total: count });
      },
    });
    if (live) clearInterval(live);
    log(`sent ${inject.sent} (${inject.failed} failed) in ${(inject.elapsedNs / 1e9).toFixed(2)} s`);
    const interrupted = o.signal?.aborted === true;
    if (interrupted) log('interrupted: analysing what was captured so far');

    // 3. stop the captures: settle so tcpdump's ring hands over its last block (REFCHAIN G9)
    const captureStats = await captures.stop({ settleMs: 1500, quietMs: 300, maxWaitMs: 10_000 });
    captures = undefined;
    const countersAfter = await snapshotCounters(driver);
    const counters =
      countersBefore.snapshot && countersAfter.snapshot
        ? counterDelta(countersBefore.snapshot, countersAfter.snapshot)
        : null;
    const countersNote = countersBefore.note ?? countersAfter.note;
    const failedCapture = captureStats.find((c) => c.error);
    // After Ctrl-C a capture may already have exited with the signal: its file still holds what it got.
    if (failedCapture && !interrupted)
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `capture point "${failedCapture.name}": ${failedCapture.error}`,
      );

    // 4. analyse the teed captures (a soak: the segments left; the others were analysed during the run)
    const analysisStart = performance.now();
    if (interrupted && stopRequestedNs !== null) {
      // Interrupted: Ctrl-C reaches tcpdump too, so probes sent in the last moments may have been in flight
      // when a capture stopped. They are not followed (not counted as lost), nor is what the injector sent.
      analysis.followUntil((stopRequestedNs as bigint) - INTERRUPT_GRACE_NS);
    }
    const clocks = pointClocks(profile, hostClocks);
    for (const c of profile.captures) {
      // a backend with its own clock (VPP's pcap trace) says its offset to this host's kernel clock
      const clock = captureStats.find((s) => s.name === c.name)?.clock;
      if (clock?.offset)
        clocks[c.name] = { host: `${c.hop} (backend clock)`, offset: backendClockOffset(clock) };
    }
    if (segmented) await segmented.drain();
    else
      await analysis.consume(
        analysis.points.map((p) => capturePoint(pcapPaths[p.name], p.name, clocks[p.name])),
      );
    // a replay: the datagrams the analysis will follow (identical payloads are one); null: not known
    const injected = flow?.journeys ? flow.journeys() : inject.sent;
    if (injected === null)
      log(
        'identical payloads repeat about a journey window apart: datagrams are counted from the first capture point',
      );
    const results = analysis.finish({
      ...(interrupted || injected === null
        ? {}
        : o.traffic
          ? { injected }
          : { injected, injectedBySize: sentPerSize(inject.sent, o.payloadBytes) }),
      clocks,
      captureCounters: captureStats.map((c) => ({
        capture: c.name,
        receivedByFilter: c.stats?.receivedByFilter ?? null,
        droppedByKernel: c.stats?.droppedByKernel ?? null,
        droppedByInterface: c.stats?.droppedByInterface ?? null,
      })),
    });
    const analysisAfterRunMs = performance.now() - analysisStart;
    log(`analysed the captures in ${(analysisAfterRunMs / 1000).toFixed(1)} s`);
    results.run = {
      ...results.run,
      id: runId,
      mode: 'live',
      injector: injector.name,
      requested: {
        count,
        pps: o.pps,
        ...(o.traffic ? { traffic: requestedTraffic(o.traffic) } : { payloadBytes: [...o.payloadBytes] }),
        ...(o.durationS ? { durationS: o.durationS } : {}),
      },
      achieved: achievedRate(results, inject),
      identity,
      faults:
        o.faults ??
        (await driver.activeFaults().catch(() => [])).map((f) => ({
          hop: f.hop,
          kind: f.fault.kind,
          detail: describeFault(f.fault),
        })),
      ...(o.commandLine ? { commandLine: o.commandLine } : {}),
      ...(interrupted
        ? { interrupted: { reason: 'stopped by the user (SIGINT)', sentBeforeStop: inject.sent } }
        : {}),
    };
    if (interrupted) markInterrupted(results, inject.sent);
    if (o.traffic)
      collectorSection(
        results,
        driver.readCollectors ? await driver.readCollectors() : null,
        flow?.exporters ?? [],
        { userPayloads: flow?.userPayloads === true },
      );
    if (countersBefore.snapshot && countersAfter.snapshot) {
      results.counters = hopCounters(countersBefore.snapshot, countersAfter.snapshot);
      attachLossExplanations(
        results,
        explainLossByCounters(results, results.counters, countersAfter.snapshot.severity),
      );
    }
    if (o.packetTrace && driver.readTraces) attachPacketTraces(results, await driver.readTraces());
    const capturedBytes = segmented
      ? segmented.bytes().written
      : Object.values(pcapPaths).reduce((sum, f) => sum + fileBytes(f), 0);
    const kept = await keepCaptures(
      o.keepCaptures ?? (o.bundle === false ? 'never' : 'always'),
      results,
      profile,
      o.captureDir,
      // a soak keeps its first segment of every point: a sample of the run, not the run
      segmented ? Object.fromEntries([...segmented.samples].map(([p, f]) => [p, f.path])) : pcapPaths,
    );
    results.resources = {
      captureBytes: capturedBytes,
      peakCaptureDiskBytes: segmented ? segmented.peakDiskBytes : capturedBytes,
      segmentSeconds: o.segmentSeconds ?? null,
      ...(segmented
        ? { segmentsAnalysedDuringRun: segmented.analysedDuringRun, latePackets: segmented.late }
        : {}),
      analysisAfterRunMs: Math.round(analysisAfterRunMs),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    if (segmented?.late)
      log(`${segmented.late} packets reached their capture after their segment was sealed (analysed late)`);
    results.artifacts = {
      ...results.artifacts,
      ...(kept.pcapng ? { pcapng: kept.pcapng } : {}),
      captures: kept,
    };
    return {
      results,
      inject,
      captureStats,
      counters,
      ...(countersNote ? { countersNote } : {}),
      pcapPaths: kept.pcapng ? {} : pcapPaths,
      pcapng: kept.pcapng,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    await captures?.abort();
    // close what this run opened (all of them, or a session's relocated capture places)
    const mine = [...transports].filter(([k]) => owned || !o.transports?.has(k)).map(([, t]) => t);
    await Promise.allSettled(mine.map((t) => t.close()));
    lock.release();
  }
}

/** The soak's analysis during the run; every capture point must be able to cut segments. */
function segmentAnalyser(
  captures: CaptureSession,
  analysis: CaptureAnalysis,
  startNs: bigint,
  clocks: Record<string, PointClock>,
): SegmentAnalyser {
  const segments = captures.segments?.() ?? new Map();
  const missing = analysis.points.filter((p) => !segments.has(p.name)).map((p) => p.name);
  if (missing.length)
    throw new ChainprobeError(
      'E_CONFIG',
      `capture point${missing.length > 1 ? 's' : ''} ${missing.join(', ')} cannot be cut into segments (only tcpdump points can): run without segments`,
      true,
    );
  return new SegmentAnalyser(analysis, segments, { startNs, clocks });
}

/** SSH hosts' clocks by capture point (host clocks are measured per hop). */
function pointClocks(profile: Profile, byHop: Map<string, PointClock>): Record<string, PointClock> {
  const out: Record<string, PointClock> = {};
  for (const c of profile.captures) if (byHop.has(c.hop)) out[c.name] = byHop.get(c.hop)!;
  return out;
}

/** Calls `onLive` every second with the captures' packet counts and the analysis so far. */
function liveReporter(
  captures: CaptureSession,
  analysis: CaptureAnalysis,
  segmented: SegmentAnalyser | null,
  sent: () => number,
  onLive: (l: LiveState) => void,
): NodeJS.Timeout {
  return setInterval(() => {
    const progress = analysis.progress();
    onLive({
      sent: sent(),
      packetCounts: captures.packetCounts?.() ?? new Map(),
      ...(segmented?.analysed
        ? {
            analysed: {
              segments: segmented.analysed,
              throughNs: segmented.analysedThroughNs,
              sent: progress.sent,
              delivered: progress.delivered,
            },
          }
        : {}),
      bytesOnDisk: segmented?.bytes().onDisk ?? 0,
      rssBytes: process.memoryUsage.rss(),
    });
  }, 1000);
}

const fileBytes = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** A backend clock's offset: a drift track over its readings when it took two or more, else the one offset. */
function backendClockOffset(clock: CapturePointResult['clock']): ClockOffset | ClockTrack {
  const samples = clock.samples ?? [];
  if (samples.length < 2) return { ...clock.offset!, atNs: samples[0]?.atNs ?? 0 };
  const track = new ClockTrack();
  for (const s of samples) track.add({ ...s, method: clock.offset!.method });
  return track;
}

/** The driver's counters, or why there are none (a chain without counters still runs). */
async function snapshotCounters(driver: ChainDriver) {
  if (!driver.counters) return { note: `the ${driver.name} driver reads no counters` };
  try {
    return { snapshot: await driver.counters() };
  } catch (e) {
    return { note: `counters unavailable: ${(e as Error).message}` };
  }
}

/** Probes first seen this long before a Ctrl-C are still followed; later ones may have been cut off. */
const INTERRUPT_GRACE_NS = 500_000_000n;

/** Probes cycle through the sizes (probe i has size i % n): how many of each `sent` probes were. */
export function sentPerSize(sent: number, sizes: number[]): { payloadBytes: number; sent: number }[] {
  return sizes.map((payloadBytes, j) => ({
    payloadBytes,
    sent: Math.max(0, Math.ceil((sent - j) / sizes.length)),
  }));
}

/** An interrupted run can still pass what it measured, but it did not do what was asked: one failing check. */
function markInterrupted(results: RunResults, sent: number): void {
  const units = results.run.requested?.traffic ? 'datagrams' : 'probes';
  const detail = `interrupted (SIGINT) after ${sent} of ${results.run.requested?.count ?? '?'} ${units}: the results cover the ${units} first seen until ${INTERRUPT_GRACE_NS / 1_000_000n} ms before the interrupt (later ones may have been in flight when the captures stopped)`;
  results.checks.push({ name: 'run complete', status: 'fail', pass: false, detail });
  results.verdict = 'fail';
}

/**
 * The captures on disk after the run, in one form: run.pcapng, one interface block per capture point
 * (named after it; `chainprobe analyze --capture wire=run.pcapng` reads that point's packets back). It holds
 * everything the per-point files did (linktype, snaplen, ns timestamps, original lengths), is what the report
 * and the vitest annotation link, and Wireshark shows each probe's journey in it; the per-point tees are
 * deleted once it is written. Above 2 GiB no bundle is made and the per-point files stay instead.
 */
async function keepCaptures(
  policy: KeepCaptures,
  results: RunResults,
  profile: Profile,
  dir: string,
  pcapPaths: Record<string, string>,
): Promise<NonNullable<NonNullable<RunResults['artifacts']>['captures']> & { pcapng: string | null }> {
  const perPoint = Object.values(pcapPaths);
  const keep = policy === 'always' || (policy === 'on-failure' && results.verdict === 'fail');
  if (!keep) {
    for (const f of perPoint) rmSync(f, { force: true });
    return { policy, files: [], bytes: 0, pcapng: null };
  }
  const pcapng = await writeRunPcapng(join(dir, 'run.pcapng'), profile, pcapPaths);
  if (pcapng) for (const f of perPoint) rmSync(f, { force: true });
  const files = pcapng ? [pcapng] : perPoint;
  const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  return { policy, files, bytes, pcapng };
}

/** Key of the injector's transport in a run's transport map (hops are keyed by their name). */
export const INJECTOR_TRANSPORT = '__injector';

/** Opens a transport to every hop and to the injector into `into` (the caller closes them). */
export async function openChainTransports(
  profile: Profile,
  into: Map<string, Transport> = new Map(),
): Promise<Map<string, Transport>> {
  for (const hop of profile.hops) into.set(hop.name, await openTransport(hop.transport));
  into.set(INJECTOR_TRANSPORT, await openTransport(profile.injector.transport));
  return into;
}

/** The rate on the wire, from the kernel timestamps of the first capture point (not the sender's clock). */
function achievedRate(r: RunResults, inject: InjectStats): NonNullable<RunResults['run']['achieved']> {
  const first = r.hops[0];
  const spanNs = r.timeline.length ? r.run.durationNs : 0;
  if (!first || first.seen < 2 || spanNs <= 0)
    return { pps: inject.achievedPpsSender, mbps: null, source: 'sender clock (no capture span)' };
  const pps = (first.seen - 1) / (spanNs / 1e9);
  return {
    pps,
    mbps: inject.sent ? ((inject.bytes / inject.sent) * 8 * pps) / 1e6 : null,
    source: `capture point "${first.name}" kernel timestamps (sender measured ${Math.round(inject.achievedPpsSender)} pps)`,
  };
}

function makeInjector(kind: InjectorKind, profile: Profile, transport: Transport, o: RunOptions): Injector {
  const common = { labPrefixes: profile.labPrefixes, transport, allowOutsideLab: o.allowOutsideLab };
  switch (kind) {
    case 'l2':
      return new L2Injector({ ...common, interface: profile.injector.interface });
    case 'raw':
      return new RawInjector({ ...common, interface: profile.injector.interface });
    case 'tcpreplay':
      return new TcpreplayInjector({ ...common, interface: profile.injector.interface });
  }
}

/**
 * Probe i: template (i % sizes) patched with seq i, IPv4 IDs from the run's identity. Ethernet frames for l2/tcpreplay; for the raw
 * injector the outer IPv4 packet (the kernel adds the Ethernet header).
 */
export function probeFrames(
  oracle: ChainOracle,
  sizes: number[],
  identity: RunIdentity,
  kind: 'ethernet' | 'ipv4',
): FrameSource {
  const { runId, flowId, ipIdBase } = identity;
  const templates: ProbeTemplate[] = sizes.map((payloadBytes) =>
    createVxlanTemplate({ ...oracle.templateSpec({ payloadBytes, runId, flowId }), ipIdBase }),
  );
  // The raw injector sends the outer IPv4 packet: a fixed view of each template's (reused) frame buffer.
  const packets = templates.map((t) =>
    kind === 'ethernet' ? t.frame : t.frame.subarray(t.layout.outerIpv4),
  );
  const max = Math.max(...packets.map((p) => p.length));
  // The probe's tx time is the crafting time in ms resolution: one bigint per millisecond, not per packet
  // (latency comes from capture timestamps, never from this field).
  let lastMs = -1;
  let txNs = 0n;
  return {
    kind,
    maxLengthBytes: max,
    next(i: number): Uint8Array {
      const ms = Date.now();
      if (ms !== lastMs) {
        lastMs = ms;
        txNs = BigInt(ms) * 1_000_000n;
      }
      const which = i % templates.length;
      templates[which].patch(i, txNs);
      return packets[which];
    },
  };
}
