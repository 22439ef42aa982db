/**
 * Payload kinds: how the UDP payload of each generated datagram is built. One registry; each kind is one
 * file (netflow-v5.ts, netflow-v9.ts, ipfix.ts, sflow.ts, replay.ts) that registers itself in kinds.ts.
 *
 * An exporter is one simulated device: its own source address, its own identity (source id / observation
 * domain / agent), its own sequence numbers as its protocol defines them, templates first and refreshed on
 * a schedule. `write` fills the next datagram's UDP payload into the caller's buffer from pre-encoded
 * pieces and patches what changes (sequence, times, counters): no allocation per datagram.
 */
export interface ExporterOptions {
  /** 0-based exporter number within its kind: picks its identity and PRNG seed */
  index: number;
  /** IPv4 source address (uint32) */
  srcIp: number;
  /** data records (v5 flows, v9/IPFIX records, sFlow flow samples) per datagram; the kind's default if omitted */
  recordsPerDatagram?: number;
  /** re-send templates every this many datagrams (v9 / IPFIX; default 20) */
  templateRefreshDatagrams?: number;
  /** replay: the UDP payloads of the capture to send again */
  capture?: readonly Uint8Array[];
}

export interface FlowExporter {
  readonly kind: string;
  readonly srcIp: number;
  /** the exporter's identity inside its datagrams (v5 engine id, v9 source id, IPFIX domain, sFlow agent) */
  readonly identity: number;
  readonly maxPayloadBytes: number;
  /** Writes the next datagram's UDP payload at `buf[offset..]`, exported at `nowMs` (Unix ms); returns its length. */
  write(buf: Uint8Array, offset: number, nowMs: number): number;
}

export interface PayloadKind {
  readonly name: string;
  /** UDP destination port collectors listen on (overridable per run) */
  readonly defaultPort: number;
  createExporter(o: ExporterOptions): FlowExporter;
}

const KINDS = new Map<string, PayloadKind>();

export function registerPayloadKind(kind: PayloadKind): void {
  if (KINDS.has(kind.name)) throw new Error(`payload kind ${kind.name} registered twice`);
  KINDS.set(kind.name, kind);
}

export function payloadKind(name: string): PayloadKind | undefined {
  return KINDS.get(name);
}

export function payloadKindNames(): string[] {
  return [...KINDS.keys()];
}

/** Unix ms → NetFlow's sysUptime: ms since the exporter "booted" (an hour before the epoch of the run). */
export const BOOT_AGO_MS = 3_600_000;
