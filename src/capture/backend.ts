/**
 * CaptureBackend: how packets at a capture point become one pcap file plus counters. A run starts every
 * point's backend (a barrier: all listening, or none), injects, then stops them and reads per point
 *   { pcap file, counters (what the kernel or the backend dropped), a note on whose clock stamped it }.
 *
 *   tcpdump     libpcap through the hop's transport, streamed and teed to the file as it arrives
 *   vpp-pcap    VPP `pcap trace` (drivers/vpp/pcap-trace.ts, registered in drivers/registry.ts): armed
 *               at start(), written by VPP only at stop() ("pcap trace off") under its /tmp, then fetched
 *               as bytes through the transport (fetchFile) — the file exists only after stop(), which this
 *               interface allows: nothing reads a point's file before stop().
 *
 * A capture point in a profile names its backend (`"backend": "tcpdump"` by default).
 */
import type { CapturePointSpec, HopSpec } from '../chain/profile.ts';
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';
import type { StopOptions } from './capture.ts';
import type { SegmentedPcap } from './segments.ts';
import type { CaptureStats, Direction } from './tcpdump.ts';
import { tcpdumpBackend } from './tcpdump-backend.ts';

export interface CapturePointRequest {
  point: CapturePointSpec;
  /** where the capture runs (the hop's transport, or the place a driver moved the point to) */
  transport: Transport;
  interface: string;
  direction: Direction;
  /** BPF filter keeping this run's traffic (backends without BPF may ignore it and say so) */
  filter?: string;
  /** the local file the point's packets end up in */
  pcapPath: string;
  bufferKiB?: number;
  /** why the point is captured somewhere else than the profile says */
  relocated?: string;
  /** the hop the point belongs to (backends that talk to the hop's data plane, e.g. VPP, need its spec) */
  hop?: HopSpec;
  /** how many packets the run expects here at most (backends with a fixed buffer size it from this) */
  expectedPackets?: number;
  /**
   * Cut the point's packets into files of this many ns of capture time (capture/segments.ts) instead of one
   * file: the session's `segments()` hands them out while the capture runs. Backends that cannot refuse it.
   */
  segmentNs?: bigint;
}

export interface CaptureCounters extends CaptureStats {
  /** packets the backend itself dropped (e.g. a trace buffer limit), when it can tell */
  droppedByBackend?: number;
}

export interface ClockNote {
  /** kernel: libpcap timestamps of this host; backend: the data plane's own clock (offset to be estimated) */
  source: 'kernel' | 'backend';
  note: string;
  /**
   * For a backend clock: its offset to this host's kernel clock as the backend measured it (ns, backend −
   * kernel), with a bound. The analysis subtracts it before comparing points (src/clock).
   */
  offset?: { offsetNs: number; uncertaintyNs: number; method: string };
  /** the readings behind `offset` (host time, ns since epoch → offset ns), for a drift fit */
  samples?: { atNs: number; offsetNs: number; uncertaintyNs: number }[];
}

export interface CapturePointResult {
  name: string;
  backend: string;
  pcapPath: string;
  /** null when the point failed (see error) */
  stats: CaptureCounters | null;
  error?: string;
  clock: ClockNote;
  /** "sec1 at netns rc-sec" */
  place: string;
  relocated?: string;
}

export interface CaptureSession {
  /** Stop every point and return one result per point, in the order they were started. */
  stop(o?: StopOptions): Promise<CapturePointResult[]>;
  /** Per point (by name), packets so far: for live progress; absent when the backend only knows at stop. */
  packetCounts?(): Map<string, number>;
  /** Per point (by name), its segments when the request asked for them (segmentNs). */
  segments?(): Map<string, SegmentedPcap>;
  /** Kill everything without results (cleanup after a failure). */
  abort(): Promise<void>;
}

export interface CaptureBackend {
  readonly name: string;
  /** Resolves once every point is capturing; if one cannot start, the others are stopped and it throws. */
  start(points: CapturePointRequest[]): Promise<CaptureSession>;
}

const backends = new Map<string, CaptureBackend>([[tcpdumpBackend.name, tcpdumpBackend]]);

export function registerCaptureBackend(b: CaptureBackend): void {
  backends.set(b.name, b);
}

export const captureBackendNames = (): string[] => [...backends.keys()];

function backendOf(name: string): CaptureBackend {
  const b = backends.get(name);
  if (!b)
    throw new ChainprobeError(
      'E_CONFIG',
      `unknown capture backend "${name}"; backends are ${captureBackendNames().join(', ')}`,
      true,
    );
  return b;
}

/**
 * Starts every point with its backend (points of one backend start together) and returns one session.
 * Start barrier across backends: if any backend fails to start, the sessions already running are aborted.
 */
export async function startCaptureSession(points: CapturePointRequest[]): Promise<CaptureSession> {
  const groups = new Map<string, CapturePointRequest[]>();
  for (const p of points) {
    backendOf(p.point.backend); // unknown backends are bad input before anything starts
    groups.set(p.point.backend, [...(groups.get(p.point.backend) ?? []), p]);
  }
  const started = await Promise.allSettled(
    [...groups].map(async ([name, group]) => ({ group, session: await backendOf(name).start(group) })),
  );
  const failed = started.find((s) => s.status === 'rejected');
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed) {
    await Promise.allSettled(running.map((r) => r.session.abort()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const merged = <T>(get: (s: CaptureSession) => Map<string, T> | undefined) => {
    const out = new Map<string, T>();
    for (const r of running) for (const [k, v] of get(r.session) ?? []) out.set(k, v);
    return out;
  };
  return {
    packetCounts: () => merged((s) => s.packetCounts?.()),
    segments: () => merged((s) => s.segments?.()),
    async stop(o) {
      const results = await Promise.all(running.map((r) => r.session.stop(o)));
      const byName = new Map(results.flat().map((r) => [r.name, r]));
      return points.map((p) => byName.get(p.point.name)!);
    },
    async abort() {
      await Promise.allSettled(running.map((r) => r.session.abort()));
    },
  };
}
