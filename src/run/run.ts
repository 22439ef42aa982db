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
import { type Capture, captureOptionsForPoint, startCaptures } from '../capture/index.ts';
import type { CaptureStats } from '../capture/tcpdump.ts';
import { ChainOracle, type RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import type { ProbeTemplate } from '../codec/template.ts';
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
  /** where the per-point pcaps and the bundle go */
  captureDir: string;
  runId?: number;
  flowId?: number;
  allowOutsideLab?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (p: { sent: number; elapsedNs: number; total: number }) => void;
  /** Transports already open (a ChainSession's, keyed by hop name and '__injector'): used, not closed. */
  transports?: ReadonlyMap<string, Transport>;
  /** Write the per-run pcapng bundle (default true). */
  bundle?: boolean;
}

export interface RunOutcome {
  results: RunResults;
  inject: InjectStats;
  captureStats: { name: string; stats: CaptureStats | null; error?: string }[];
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

  const owned = !o.transports;
  const transports = new Map<string, Transport>(o.transports ?? []);
  const captures: Capture[] = [];
  const pcapPaths: Record<string, string> = {};
  try {
    if (owned) await openChainTransports(profile, transports);
    const injectorTransport = transports.get(INJECTOR_TRANSPORT)!;

    // 1. every capture point listening before the first probe leaves
    const specs = profile.captures.map((c) => {
      pcapPaths[c.name] = join(o.captureDir, `${c.name}.pcap`);
      return captureOptionsForPoint(profile, c.name, transports.get(c.hop)!, {
        bufferKiB: 32 * 1024,
        teePath: pcapPaths[c.name],
        discardPackets: true,
      });
    });
    captures.push(...(await startCaptures(specs)));
    log(`capturing at ${profile.captures.map((c) => `${c.name} (${c.hop}/${c.interface})`).join(', ')}`);

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
    const stopped = await Promise.allSettled(
      captures.map((c) => c.stop({ settleMs: 1500, quietMs: 300, maxWaitMs: 10_000 })),
    );
    captures.length = 0;
    const captureStats = stopped.map((s, i) => ({
      name: profile.captures[i].name,
      stats: s.status === 'fulfilled' ? s.value : null,
      ...(s.status === 'rejected' ? { error: (s.reason as Error).message } : {}),
    }));
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
    const pcapng =
      o.bundle === false ? null : await writeRunPcapng(join(o.captureDir, 'run.pcapng'), profile, pcapPaths);
    results.artifacts = { ...results.artifacts, ...(pcapng ? { pcapng } : {}) };
    return { results, inject, captureStats, pcapPaths, pcapng };
  } finally {
    await Promise.allSettled(captures.map((c) => c.abort()));
    if (owned) await Promise.allSettled([...transports.values()].map((t) => t.close()));
  }
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
