/**
 * ChainDriver: everything chainprobe does to a chain other than sending probes through it — bring it up and
 * down, say how it is, inject faults, hand over runtime ESP keys, read its counters — behind one interface,
 * so that `chain` verbs, vitest fixtures and `run` work on any profile whose driver can do the thing.
 *
 * A verb a driver cannot do is simply absent (an optional method); callers ask `requireVerb`, which fails
 * as bad input naming the driver and what it can do. Mutating verbs hold the chain lock (lock.ts) and take
 * `wait` for `--wait`.
 *
 * Drivers so far: `refchain` (the embedded reference chain, src/drivers/refchain) and `external` (a chain
 * chainprobe measures but does not manage). A VPP driver fits the same shape: its hops are VPP instances
 * reached with `vppctl` through each hop's transport; runtime keys from `show ipsec sa`, counters from
 * `show interface` / `show errors`, faults `down` and `mtu` with `set interface state|mtu`.
 */
import type { RuntimeSaKey } from '../chain/oracle.ts';
import type { CapturePointSpec, Profile, TransportSpec } from '../chain/profile.ts';
import type { CollectorReading } from '../collector/collector.ts';
import { ChainprobeError } from '../errors.ts';
import type { CounterSnapshot } from './counters.ts';
import type { ActiveFault, Fault, FaultKind } from './fault.ts';
import type { LockHolder, LockOptions } from './lock.ts';

export interface DriverUpOptions extends LockOptions {
  log?: (line: string) => void;
  /** overall limit for `up` */
  timeoutMs?: number;
  /** flow-collector family to run at the destination (collector/kinds.ts), for drivers that run collectors */
  collectors?: string;
}

export interface DriverUpResult {
  /** what `up` brought up, one line each, for the operator (no secrets) */
  summary: string[];
  tookMs: number;
}

export interface DriverDownResult {
  /** what was removed (namespaces, containers, pids) */
  removed: string[];
  tookMs: number;
}

export interface InterfaceStatus {
  name: string;
  mac?: string;
  mtu: number;
  state: string;
  addresses: string[];
}

export interface HopStatus {
  name: string;
  /** where the hop lives: "netns rc-sec", "docker vpp-security" */
  place: string;
  reachable: boolean;
  interfaces: InterfaceStatus[];
  faults: Fault[];
}

export interface DriverStatus {
  driver: string;
  profile: string;
  up: boolean;
  healthy: boolean;
  problems: string[];
  hops: HopStatus[];
  /** driver-specific lines (SAs without keys, daemons, sink counters) */
  notes: string[];
  /** who holds the chain lock right now */
  lockedBy?: LockHolder;
  /** driver-specific detail for --json (never secrets) */
  detail?: unknown;
}

/** Where a capture point is captured when its own interface cannot be (e.g. its link is down). */
export interface CapturePlace {
  transport: TransportSpec;
  interface: string;
  direction: CapturePointSpec['direction'];
  /** why the point moved, for the log and the report */
  note: string;
}

/** One hop's packet trace, summarised: which node dropped or rewrote the traced packets, and how many. */
export interface HopTrace {
  hop: string;
  traced: number;
  findings: { finding: string; packets: number; path: string }[];
}

export interface ChainDriver {
  readonly name: string;
  readonly profile: Profile;
  /** the chain lock's name: chains that share state (the one reference chain on a host) share a lock */
  readonly lockName: string;
  /** fault kinds `setFault` accepts */
  readonly faultKinds: readonly FaultKind[];
  up?(o?: DriverUpOptions): Promise<DriverUpResult>;
  down?(o?: LockOptions): Promise<DriverDownResult>;
  status?(): Promise<DriverStatus>;
  setFault?(hop: string, fault: Fault, o?: LockOptions): Promise<ActiveFault[]>;
  /** every fault of one hop, or of all hops */
  clearFaults?(hop?: string, o?: LockOptions): Promise<ActiveFault[]>;
  /** the faults active on the chain now (a run records them); [] when the driver injects none */
  activeFaults(): Promise<ActiveFault[]>;
  /** keys of SAs the profile says are negotiated at run time. Never log them. */
  runtimeKeys?(): Promise<RuntimeSaKey[]>;
  /** per-hop named counters now, for before/after deltas around a run */
  counters?(): Promise<CounterSnapshot>;
  /** arm the data plane's own packet trace of the next `packets` packets per hop (VPP: `trace add`) */
  armTrace?(packets: number): Promise<void>;
  /** what the packet traces say happened, per hop: one line per distinct finding (drops, rewrites) */
  readTraces?(): Promise<HopTrace[]>;
  /** where to capture a point right now, when not where the profile says (undefined: as the profile says) */
  capturePlace?(point: CapturePointSpec): Promise<CapturePlace | undefined>;
  /** flow collectors at the destination: start them afresh (empty), so a run's view covers the run only */
  resetCollectors?(): Promise<void>;
  /** what the flow collectors decoded since the reset (they are restarted empty afterwards) */
  readCollectors?(): Promise<CollectorReading[]>;
}

export type DriverVerb = 'up' | 'down' | 'status' | 'setFault' | 'clearFaults' | 'runtimeKeys' | 'counters';

const VERB_NAMES: Record<DriverVerb, string> = {
  up: 'chain up',
  down: 'chain down',
  status: 'chain status',
  setFault: 'chain fault',
  clearFaults: 'chain fault --clear',
  runtimeKeys: 'runtime ESP keys',
  counters: 'counters',
};

export function supportedVerbs(d: ChainDriver): DriverVerb[] {
  return (Object.keys(VERB_NAMES) as DriverVerb[]).filter((v) => typeof d[v] === 'function');
}

/** The driver's method for `verb`, or bad input (exit 2) naming the driver and what it supports. */
export function requireVerb<V extends DriverVerb>(d: ChainDriver, verb: V): NonNullable<ChainDriver[V]> {
  const fn = d[verb];
  if (typeof fn !== 'function') {
    const can = supportedVerbs(d).map((v) => VERB_NAMES[v]);
    throw new ChainprobeError(
      'E_UNSUPPORTED',
      `the "${d.name}" driver of profile ${d.profile.name} does not support ${VERB_NAMES[verb]}${can.length ? ` (it supports: ${can.join(', ')})` : ' (it manages nothing: the chain is run by someone else)'}`,
      true,
      { driver: d.name, verb },
    );
  }
  return (fn as (...a: unknown[]) => unknown).bind(d) as NonNullable<ChainDriver[V]>;
}

/** A fault kind the driver cannot inject is bad input, before anything touches the chain. */
export function requireFaultKind(d: ChainDriver, f: Fault): void {
  if (!d.faultKinds.includes(f.kind))
    throw new ChainprobeError(
      'E_UNSUPPORTED',
      `the "${d.name}" driver cannot inject a "${f.kind}" fault (it can: ${d.faultKinds.join(', ') || 'none'})`,
      true,
      { driver: d.name, fault: f.kind },
    );
}
