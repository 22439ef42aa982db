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
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCaptures } from '../analyze/analyze.ts';
import { type Capture, captureOptionsForPoint, startCaptures } from '../capture/index.ts';
import type { CaptureStats } from '../capture/tcpdump.ts';
import { ChainOracle, type RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import { createVxlanTemplate, type ProbeTemplate } from '../codec/template.ts';
import { ChainprobeError } from '../errors.ts';
import { L2Injector } from '../inject/l2.ts';
import { type RunIdentity, runIdentity } from '../inject/plan.ts';
import { RawInjector } from '../inject/raw.ts';
import { TcpreplayInjector } from '../inject/tcpreplay.ts';
import type { FrameSource, Injector, InjectStats } from '../inject/types.ts';
import type { ActiveFault, RunResults } from '../report/results.ts';
import { openTransport } from '../transport/index.ts';
import type { Transport } from '../transport/transport.ts';
import { writeRunPcapng } from './pcapng-bundle.ts';

export type InjectorKind = 'l2' | 'raw' | 'tcpreplay';

/** Which captures stay on disk after the run: all, only when the verdict fails, or none. */
export type KeepCaptures = 'always' | 'on-failure' | 'never';
export const KEEP_CAPTURES: readonly KeepCaptures[] = ['always', 'on-failure', 'never'];

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

  const transports = new Map<string, Transport>();
  const captures: Capture[] = [];
  const pcapPaths: Record<string, string> = {};
  try {
    for (const hop of profile.hops) transports.set(hop.name, await openTransport(hop.transport));
    const injectorTransport = await openTransport(profile.injector.transport);
    transports.set('__injector', injectorTransport);

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
    const frames = probeFrames(oracle, o.payloadBytes, identity, o.injector === 'raw' ? 'ipv4' : 'ethernet');
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
    const interrupted = o.signal?.aborted === true;
    if (interrupted) log('interrupted: analysing what was captured so far');

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
    // After Ctrl-C a capture may already have exited with the signal: its file still holds what it got.
    if (failedCapture && !interrupted)
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `capture point "${failedCapture.name}": ${failedCapture.error}`,
      );

    // 4. analyse the teed captures
    const results = await analyzeCaptures({
      profile,
      runId,
      runtimeKeys: o.runtimeKeys,
      // Interrupted: Ctrl-C reaches tcpdump too, so probes sent in the last moments may have been in flight
      // when a capture stopped. They are not followed (not counted as lost), nor is what the injector sent.
      ...(interrupted
        ? stopRequestedNs !== null
          ? { followUntilNs: (stopRequestedNs as bigint) - INTERRUPT_GRACE_NS }
          : {}
        : { injected: inject.sent, injectedBySize: sentPerSize(inject.sent, o.payloadBytes) }),
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
        payloadBytes: [...o.payloadBytes],
        ...(o.durationS ? { durationS: o.durationS } : {}),
      },
      achieved: achievedRate(results, inject),
      identity,
      faults: o.faults ?? [],
      ...(o.commandLine ? { commandLine: o.commandLine } : {}),
      ...(interrupted
        ? { interrupted: { reason: 'stopped by the user (SIGINT)', sentBeforeStop: inject.sent } }
        : {}),
    };
    if (interrupted) markInterrupted(results, inject.sent);
    const kept = await keepCaptures(o.keepCaptures ?? 'always', results, profile, o.captureDir, pcapPaths);
    results.artifacts = {
      ...results.artifacts,
      ...(kept.pcapng ? { pcapng: kept.pcapng } : {}),
      captures: kept,
    };
    return { results, inject, captureStats, pcapPaths: kept.pcapng ? {} : pcapPaths, pcapng: kept.pcapng };
  } finally {
    await Promise.allSettled(captures.map((c) => c.abort()));
    await Promise.allSettled([...transports.values()].map((t) => t.close()));
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
  const detail = `interrupted (SIGINT) after ${sent} of ${results.run.requested?.count ?? '?'} probes: the results cover the probes first seen until ${INTERRUPT_GRACE_NS / 1_000_000n} ms before the interrupt (later ones may have been in flight when the captures stopped)`;
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
