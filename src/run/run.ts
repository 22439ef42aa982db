/**
 * One live run against a chain: capture at every point → inject probes → stop captures → analyse.
 *
 *   profile ─► captures (tcpdump through each hop's transport, teed to pcaps/, start barrier)
 *           ─► injector (l2 | raw | tcpreplay) sending templated probes at the asked rate
 *           ─► captures stopped (settle, kernel counters) ─► analyzeCaptures over the teed files
 *           ─► results (+ one pcapng with an interface block per capture point)
 *
 * The analysis reads the teed files after the run rather than the live streams: the k-way merge needs
 * every stream's next packet, which a live stream can only promise once the run is over. The captures
 * still stream (nothing holds a capture in memory), and the tee is what the report links to anyway.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCaptures } from '../analyze/analyze.ts';
import {
  type CapturePointResult,
  type CaptureSession,
  captureRequestForPoint,
  startCaptureSession,
} from '../capture/index.ts';
import { ChainOracle, type RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import type { ProbeTemplate } from '../codec/template.ts';
import {
  acquireChainLock,
  type ChainDriver,
  type CounterDelta,
  counterDelta,
  describeHolder,
  driverFor,
} from '../drivers/index.ts';
import { ChainprobeError } from '../errors.ts';
import { L2Injector } from '../inject/l2.ts';
import { RawInjector } from '../inject/raw.ts';
import { TcpreplayInjector } from '../inject/tcpreplay.ts';
import type { FrameSource, Injector, InjectStats } from '../inject/types.ts';
import type { RunResults } from '../report/results.ts';
import { openTransport } from '../transport/index.ts';
import type { Transport } from '../transport/transport.ts';
import { writeRunPcapng } from './pcapng-bundle.ts';

export type InjectorKind = 'l2' | 'raw' | 'tcpreplay';

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
  flowId?: number;
  allowOutsideLab?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (p: { sent: number; elapsedNs: number; total: number }) => void;
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
  const runId = o.runId ?? (Math.random() * 0xffffffff) >>> 0;
  const count = o.count ?? (o.durationS ? Math.round(o.pps * o.durationS) : 1000);
  if (o.payloadBytes.length === 0)
    throw new ChainprobeError('E_CONFIG', 'at least one payload size is needed', true);
  const oracle = new ChainOracle(profile, o.runtimeKeys ?? []);
  oracle.sas(); // a missing runtime key fails before anything starts
  mkdirSync(o.captureDir, { recursive: true });

  const driver = o.driver ?? driverFor(profile);
  // One run per chain: a second one would mix its packets with ours (and `chain up` would wreck both).
  const lock = await acquireChainLock(driver.lockName, 'run', {
    wait: o.waitForLock,
    onWait: (h) => log(`waiting for ${describeHolder(h)}…`),
  });
  const transports = new Map<string, Transport>();
  let captures: CaptureSession | undefined;
  const pcapPaths: Record<string, string> = {};
  try {
    for (const hop of profile.hops) transports.set(hop.name, await openTransport(hop.transport));
    const injectorTransport = await openTransport(profile.injector.transport);
    transports.set('__injector', injectorTransport);

    // 1. every capture point listening before the first probe leaves (where the driver says it can be)
    const requests = [];
    for (const c of profile.captures) {
      pcapPaths[c.name] = join(o.captureDir, `${c.name}.pcap`);
      const moved = await driver.capturePlace?.(c);
      if (moved) transports.set(`__capture:${c.name}`, await openTransport(moved.transport));
      requests.push(
        captureRequestForPoint(profile, c, transports.get(c.hop)!, {
          pcapPath: pcapPaths[c.name],
          bufferKiB: 32 * 1024,
          ...(moved ? { place: { ...moved, transport: transports.get(`__capture:${c.name}`)! } } : {}),
        }),
      );
    }
    const countersBefore = await snapshotCounters(driver);
    captures = await startCaptureSession(requests);
    log(
      `capturing at ${requests.map((r) => `${r.point.name} (${r.interface} at ${r.transport.description})`).join(', ')}`,
    );
    for (const r of requests) if (r.relocated) log(r.relocated);

    // 2. inject
    const frames = probeFrames(
      oracle,
      o.payloadBytes,
      runId,
      o.flowId ?? 1,
      o.injector === 'raw' ? 'ipv4' : 'ethernet',
    );
    const injector = makeInjector(o.injector ?? 'l2', profile, injectorTransport, o);
    log(
      `injecting ${count} probes (${o.payloadBytes.join('/')} B) at ${o.pps} pps with the ${injector.name} injector, run id ${runId}`,
    );
    const inject = await injector.inject(frames, {
      ratePps: o.pps,
      count,
      signal: o.signal,
      onProgress: (p) => o.onProgress?.({ ...p, total: count }),
    });
    log(`sent ${inject.sent} (${inject.failed} failed) in ${(inject.elapsedNs / 1e9).toFixed(2)} s`);

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
    if (failedCapture)
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `capture point "${failedCapture.name}": ${failedCapture.error}`,
      );

    // 4. analyse the teed captures
    const results = await analyzeCaptures({
      profile,
      runId,
      runtimeKeys: o.runtimeKeys,
      injected: inject.sent,
      captures: profile.captures.map((c) => ({ name: c.name, source: pcapPaths[c.name] })),
      captureCounters: captureStats.map((c) => ({
        capture: c.name,
        receivedByFilter: c.stats?.receivedByFilter ?? null,
        droppedByKernel: c.stats?.droppedByKernel ?? null,
        droppedByInterface: c.stats?.droppedByInterface ?? null,
      })),
    });
    results.run = {
      ...results.run,
      id: runId,
      mode: 'live',
      injector: injector.name,
      requested: {
        count,
        pps: o.pps,
        payloadBytes: o.payloadBytes[0],
        ...(o.durationS ? { durationS: o.durationS } : {}),
      },
      achieved: achievedRate(results, inject),
    };
    const pcapng = await writeRunPcapng(join(o.captureDir, 'run.pcapng'), profile, pcapPaths);
    results.artifacts = { ...results.artifacts, ...(pcapng ? { pcapng } : {}) };
    return {
      results,
      inject,
      captureStats,
      counters,
      ...(countersNote ? { countersNote } : {}),
      pcapPaths,
      pcapng,
    };
  } finally {
    await captures?.abort();
    await Promise.allSettled([...transports.values()].map((t) => t.close()));
    lock.release();
  }
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
 * Probe i: template (i % sizes) patched with seq i. Ethernet frames for l2/tcpreplay; for the raw
 * injector the outer IPv4 packet (the kernel adds the Ethernet header).
 */
export function probeFrames(
  oracle: ChainOracle,
  sizes: number[],
  runId: number,
  flowId: number,
  kind: 'ethernet' | 'ipv4',
): FrameSource {
  const templates: ProbeTemplate[] = sizes.map((payloadBytes) =>
    oracle.template({ payloadBytes, runId, flowId }),
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
