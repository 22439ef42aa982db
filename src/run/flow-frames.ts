/**
 * Flow-export traffic for a live run: the mix's exporter frames (traffic/mix.ts: inner Ethernet/IPv4/UDP +
 * NetFlow/IPFIX/sFlow) carried in the profile's VXLAN, as the chain's ingress sees them (stage 0).
 *
 * The outer headers are the probe template's own (codec/template.ts via the oracle's spec): one probe frame
 * is built once and its outer Ethernet/IPv4/UDP/VXLAN bytes are the prefix of every frame; per frame only the
 * outer lengths, IPv4 id, UDP source port (RFC 7348 entropy, as for probes) and checksums change.
 *
 * Exporters' addresses: from the profile's inner source + 1 on (the inner source itself is the probe
 * flow's), to the profile's inner destination, where the chain's NAT sends them on to the collectors.
 *
 * A replayed capture (`--replay FILE`, traffic/capture-payloads.ts): one replay exporter per destination
 * port × `exporters`, each sending its share of that port's payloads in capture order (weights = shares,
 * so `payloads` frames send every payload exactly once). Its datagrams are followed by payload fingerprint
 * only: a user's NetFlow from several devices may repeat (source id, sequence) once replayed from one
 * address, the payload's hash does not; identical payloads are one datagram seen twice (duplicates).
 */
import { payloadFingerprint } from '../analyze/identify/index.ts';
import { JOURNEY_WINDOW_NS } from '../analyze/journey.ts';
import type { ChainOracle } from '../chain/oracle.ts';
import { toIpv4 } from '../codec/address.ts';
import { writeU16 } from '../codec/bytes.ts';
import { checksumOfSum, onesComplementSum, pseudoHeaderSum } from '../codec/checksum.ts';
import { ETHERNET_HEADER_BYTES } from '../codec/ethernet.ts';
import { IP_PROTO_UDP, IPV4_HEADER_BYTES } from '../codec/ipv4.ts';
import { PROBE_HEADER_BYTES } from '../codec/probe.ts';
import { createVxlanTemplate } from '../codec/template.ts';
import { UDP_HEADER_BYTES } from '../codec/udp.ts';
import { ChainprobeError } from '../errors.ts';
import type { RunIdentity } from '../inject/plan.ts';
import type { FrameKind, FrameSource } from '../inject/types.ts';
import type { CapturePayloads } from '../traffic/capture-payloads.ts';
import { payloadKind, payloadKindNames } from '../traffic/kinds.ts';
import { createFlowMixSource, type FlowMixSource, type MixEntry, parseMix } from '../traffic/mix.ts';

export interface FlowTraffic {
  /** e.g. 'netflow-v9:50,ipfix:30,sflow:20'; 'replay' with `replay` */
  mix: string;
  /** exporters per kind (default 1); a replay: per destination port */
  exporters?: number;
  /** a user's capture replayed instead of the mix: its UDP payloads by destination port */
  replay?: CapturePayloads;
}

/** What the results record of the traffic (`run.requested.traffic`): a replay by its file, not its bytes. */
export function requestedTraffic(t: FlowTraffic): {
  mix: string;
  exporters?: number;
  replay?: { file: string; payloads: number };
} {
  return {
    mix: t.mix,
    ...(t.exporters !== undefined ? { exporters: t.exporters } : {}),
    ...(t.replay ? { replay: { file: t.replay.file, payloads: t.replay.payloads } } : {}),
  };
}

/** 'netflow-v9:50,ipfix:30' or 'a replay of FILE (N payloads)', for logs. */
export function describeTraffic(t: FlowTraffic): string {
  return t.replay
    ? `a replay of ${t.replay.file} (${t.replay.payloads.toLocaleString('en-US')} payloads)`
    : t.mix;
}

export interface FlowExportFrames extends FrameSource {
  /** the exporters behind the frames (their inner source address, port, identity) */
  readonly exporters: FlowMixSource['exporters'];
  /**
   * The identifiers the analysis should follow these datagrams with (default: every one). A replay:
   * 'fingerprint'.
   */
  readonly identifiers?: readonly string[];
  /**
   * A replay: how many datagrams the analysis will follow among those handed out since the last frame 0
   * (identical payloads within a journey's window are one datagram seen twice) — the run's `injected`.
   * null when it cannot be told: a payload repeated about a window later (cycling a capture sent in about
   * that long) is one datagram or two depending on the send jitter; the first point's count stands then.
   */
  journeys?(): number | null;
  /**
   * A replay: the datagrams are a user's capture — whether collectors decode them (and so list their
   * exporter; a port no collector listens on lists none) is the capture's doing: reported, not judged.
   */
  readonly userPayloads?: boolean;
}

/** Exporters per kind × kinds must stay inside the inner /24 after the probe source. */
const MAX_EXPORTERS = 200;

export function flowExportFrames(
  oracle: ChainOracle,
  traffic: FlowTraffic,
  identity: RunIdentity,
  kind: FrameKind,
  pps: number,
): FlowExportFrames {
  const replay = traffic.replay;
  const mix = replay ? replayMix(replay, traffic.exporters ?? 1) : parseMix(traffic.mix);
  const perKind = replay ? 1 : (traffic.exporters ?? 1);
  if (perKind * mix.length > MAX_EXPORTERS)
    throw new ChainprobeError(
      'E_CONFIG',
      replay
        ? `--replay ${replay.file}: ${replay.lanes.length} destination ports × --exporters ${traffic.exporters ?? 1} = ${mix.length} exporters: at most ${MAX_EXPORTERS} fit the inner prefix`
        : `--exporters ${perKind} × ${mix.length} kinds = ${perKind * mix.length} exporters: at most ${MAX_EXPORTERS} fit the inner prefix`,
      true,
    );
  // The probe template's outer headers, built once by the same code and spec as the probes'.
  const spec = oracle.templateSpec({ payloadBytes: PROBE_HEADER_BYTES, runId: identity.runId });
  const probe = createVxlanTemplate({ ...spec, ipIdBase: identity.ipIdBase });
  const L = probe.layout;
  const innerAt = L.innerIpv4 - ETHERNET_HEADER_BYTES; // where the inner Ethernet header starts
  const outerPrefix = probe.frame.slice(0, innerAt);
  const { inner, outer } = spec;
  // the profile may move a kind to another port (its chain's NAT rules are per port)
  const ports = oracle.profile.traffic.flowPorts;
  for (const k of Object.keys(ports ?? {}))
    if (!payloadKind(k))
      throw new ChainprobeError(
        'E_CONFIG',
        `profile ${oracle.profile.name}: traffic.flowPorts names "${k}", not a payload kind (${payloadKindNames().join(', ')})`,
        true,
      );
  const inners = createFlowMixSource({
    mix,
    exporters: perKind,
    ...(ports ? { ports } : {}),
    exporterBaseIp: (toIpv4(inner.srcIp) + 1) >>> 0,
    dstIp: inner.dstIp,
    frame: 'ethernet',
    srcMac: inner.srcMac,
    dstMac: inner.dstMac,
    ttl: inner.ttl,
    msPerFrame: 1000 / pps,
  });
  const buf = new Uint8Array(innerAt + inners.maxLengthBytes);
  buf.set(outerPrefix, 0);
  const views: Uint8Array[] = [];
  const ipAt = L.outerIpv4;
  const udpAt = L.outerUdp;
  const vxlanAt = udpAt + UDP_HEADER_BYTES;
  // As traffic/mix.ts does per lane: sums of the constant outer header words, made once (total length, id,
  // UDP source port, lengths and checksums 0); per frame only the changed words and the datagram are added.
  for (const at of [ipAt + 2, ipAt + 4, ipAt + 10, udpAt, udpAt + 4, udpAt + 6]) writeU16(buf, at, 0);
  const ipHeaderSum = onesComplementSum(buf, ipAt, udpAt - ipAt);
  const udpHeaderSum = pseudoHeaderSum(buf, ipAt + 12, ipAt + 16, IP_PROTO_UDP, 0) + outer.dstPort;
  const journeys = replay ? new JourneyCounter(pps) : null;
  return {
    kind,
    maxLengthBytes: buf.length - (kind === 'ipv4' ? ipAt : 0),
    exporters: inners.exporters,
    ...(journeys
      ? { identifiers: ['fingerprint'], journeys: () => journeys.result(), userPayloads: true }
      : {}),
    next(i) {
      const frame = inners.next(i);
      journeys?.sent(i, frame);
      buf.set(frame, innerAt);
      const end = innerAt + frame.length;
      const ipLength = end - ipAt;
      const ipId = (identity.ipIdBase + i) & 0xffff;
      writeU16(buf, ipAt + 2, ipLength);
      writeU16(buf, ipAt + 4, ipId);
      writeU16(buf, ipAt + 10, checksumOfSum(ipHeaderSum + ipLength + ipId));
      const srcPort = outer.srcPortBase + (i % outer.srcPortCount);
      const udpLength = end - udpAt;
      writeU16(buf, udpAt, srcPort);
      writeU16(buf, udpAt + 4, udpLength);
      if (outer.udpChecksum) {
        // the UDP length counts twice: in the pseudo-header and in the header; RFC 768 sends 0 as 0xffff
        const c = checksumOfSum(
          udpHeaderSum + srcPort + 2 * udpLength + onesComplementSum(buf, vxlanAt, end - vxlanAt),
        );
        writeU16(buf, udpAt + 6, c === 0 ? 0xffff : c);
      }
      const from = kind === 'ipv4' ? ipAt : 0;
      views[end] ??= buf.subarray(from, end);
      return views[end];
    },
  };
}

/** A replay's mix: per destination port, `exporters` replay exporters, each with every exporters-th payload. */
function replayMix(replay: CapturePayloads, exporters: number): MixEntry[] {
  const entries: MixEntry[] = [];
  for (const lane of replay.lanes)
    for (let k = 0; k < exporters; k++) {
      const share = lane.payloads.filter((_, j) => j % exporters === k);
      if (share.length)
        entries.push({ kind: 'replay', weight: share.length, port: lane.port, capture: share });
    }
  return entries;
}

/** Inner Ethernet + IPv4 + UDP headers before a mix frame's payload. */
const INNER_PAYLOAD_AT = ETHERNET_HEADER_BYTES + IPV4_HEADER_BYTES + UDP_HEADER_BYTES;

/**
 * Counts the datagrams the analysis will follow by fingerprint, as the journey tracker will: a payload
 * starts a journey unless the same payload started one less than a window ago (at the sending rate).
 * A repeat between half a window and two windows later is uncertain (the sender's pace is not the
 * captures' clock; a slow injector stretches it): the count is then not given.
 * Frame 0 starts the count over: the injectors sample frame 0 before they send.
 */
class JourneyCounter {
  private count = 0;
  private uncertain = false;
  private readonly started = new Map<number, number>();
  private readonly windowFrames: number;

  constructor(pps: number) {
    this.windowFrames = (Number(JOURNEY_WINDOW_NS) / 1e9) * pps;
  }

  sent(i: number, frame: Uint8Array): void {
    if (i === 0) {
      this.count = 0;
      this.uncertain = false;
      this.started.clear();
    }
    const fp = payloadFingerprint(frame, INNER_PAYLOAD_AT, frame.length - INNER_PAYLOAD_AT);
    const at = this.started.get(fp);
    if (at !== undefined) {
      const gap = i - at;
      if (gap >= this.windowFrames / 2 && gap < 2 * this.windowFrames) this.uncertain = true;
      if (gap < this.windowFrames) return;
    }
    this.started.set(fp, i);
    this.count++;
  }

  result(): number | null {
    return this.uncertain ? null : this.count;
  }
}
