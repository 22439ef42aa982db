/**
 * A traffic mix as frames: `netflow-v9:50,ipfix:30,sflow:20` with N exporters per kind, interleaved by
 * weight (smooth weighted round robin: deterministic, no bursts of one kind), exporters of a kind in turn.
 * Each frame is [Ethernet] + IPv4 + UDP + the exporter's next datagram, written into its exporter's own
 * reused buffer behind headers written once; lengths, IPv4 id and both checksums patched per frame, the
 * checksums from sums of the constant header words made once per exporter (only the datagram itself is
 * summed per frame). A FrameSource for the injectors (inject/types.ts).
 *
 *   const src = createFlowMixSource({ mix: 'netflow-v9:50,ipfix:30,sflow:20', exporters: 20,
 *                                     exporterBaseIp: '10.10.10.100', dstIp: '10.10.10.10' });
 *   src.next(i) → Uint8Array (valid until the next call; call with i = 0, 1, 2, … in order:
 *                 sequence numbers are the exporters' state; the same i again returns the same frame)
 */
import { toIpv4, toMac } from '../codec/address.ts';
import { writeU16 } from '../codec/bytes.ts';
import { checksumOfSum, onesComplementSum, pseudoHeaderSum } from '../codec/checksum.ts';
import { ETHERTYPE_IPV4, ethernet } from '../codec/ethernet.ts';
import { IP_PROTO_UDP, IPV4_HEADER_BYTES, ipv4 } from '../codec/ipv4.ts';
import { UDP_HEADER_BYTES, udp } from '../codec/udp.ts';
import { ChainprobeError } from '../errors.ts';
import type { FrameSource } from '../inject/types.ts';
import type { FlowExporter } from './exporter.ts';
import { payloadKind, payloadKindNames } from './kinds.ts';

export interface MixEntry {
  kind: string;
  weight: number;
  /** this entry's destination port (default: `ports[kind]`, then the kind's) */
  port?: number;
  /** replay kind: this entry's payloads (default: `capture`) — a replayed capture has one entry per lane */
  capture?: readonly Uint8Array[];
}

/** Parses `kind:weight,kind:weight` (weight defaults to 1) → E_CONFIG naming what was wrong. */
export function parseMix(text: string): MixEntry[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const [kind, w = '1', extra] = part.split(':');
      const weight = Number(w);
      if (extra !== undefined || !payloadKind(kind) || !Number.isInteger(weight) || weight < 1)
        throw new ChainprobeError(
          'E_CONFIG',
          `traffic mix "${part}": expected KIND[:WEIGHT] with KIND one of ${payloadKindNames().join(', ')} and WEIGHT a positive integer`,
          true,
        );
      return { kind, weight };
    });
  if (entries.length === 0) throw new ChainprobeError('E_CONFIG', 'traffic mix is empty', true);
  return entries;
}

export interface FlowMixOptions {
  mix: string | MixEntry[];
  /** exporters per kind (default 1) */
  exporters?: number;
  /** the first exporter's address; the others follow it (kind by kind, exporter by exporter) */
  exporterBaseIp: string | number;
  dstIp: string | number;
  /** destination port per kind; the kind's default (2055 NetFlow/IPFIX, 6343 sFlow) otherwise */
  ports?: Record<string, number>;
  /** exporters' UDP source ports: srcPortBase + exporter number (default 40000) */
  srcPortBase?: number;
  /** 'ipv4' (raw injector) or 'ethernet' (l2/tcpreplay; then give the MACs) */
  frame?: 'ipv4' | 'ethernet';
  srcMac?: string | number;
  dstMac?: string | number;
  ttl?: number;
  /** export time of frame 0 (Unix ms; default now) and the spacing of frames (default 0.1 ms = 10 kpps) */
  startMs?: number;
  msPerFrame?: number;
  recordsPerDatagram?: number;
  templateRefreshDatagrams?: number;
  /** replay kind: the capture's UDP payloads */
  capture?: readonly Uint8Array[];
  /** UDP checksum (default true, as exporters send) */
  udpChecksum?: boolean;
}

interface Lane {
  exporter: FlowExporter;
  /** this exporter's frame buffer: headers written once, datagram and patched fields per frame */
  buf: Uint8Array;
  /** one view per frame length, made once: frames are handed out without allocating */
  views: Uint8Array[];
  ipId: number;
  /** one's complement sums of the IPv4 header and of the UDP pseudo-header + ports, lengths/id/checksums 0 */
  ipHeaderSum: number;
  udpHeaderSum: number;
}

export interface FlowMixSource extends FrameSource {
  /** every exporter, in lane order (for identity checks and collectors' expectations) */
  readonly exporters: readonly {
    kind: string;
    srcIp: number;
    srcPort: number;
    dstPort: number;
    identity: number;
  }[];
}

export function createFlowMixSource(o: FlowMixOptions): FlowMixSource {
  const mix = typeof o.mix === 'string' ? parseMix(o.mix) : o.mix;
  const perKind = o.exporters ?? 1;
  if (!Number.isInteger(perKind) || perKind < 1 || perKind > 4096)
    throw new ChainprobeError('E_CONFIG', `exporters: ${perKind} is not an integer in 1..4096`, true);
  const l2 = (o.frame ?? 'ipv4') === 'ethernet';
  const l2Bytes = l2 ? 14 : 0;
  const ipAt = l2Bytes;
  const udpAt = ipAt + IPV4_HEADER_BYTES;
  const payloadAt = udpAt + UDP_HEADER_BYTES;
  const base = toIpv4(o.exporterBaseIp);
  const dst = toIpv4(o.dstIp);
  const checksum = o.udpChecksum ?? true;
  const exporters: FlowMixSource['exporters'][number][] = [];
  const made: { kind: number; exporter: FlowExporter; srcPort: number; dstPort: number }[] = [];
  let n = 0;
  mix.forEach((entry, k) => {
    const { kind } = entry;
    const pk = payloadKind(kind)!;
    const dstPort = entry.port ?? o.ports?.[kind] ?? pk.defaultPort;
    for (let i = 0; i < perKind; i++, n++) {
      const srcIp = (base + n) >>> 0;
      const srcPort = (o.srcPortBase ?? 40000) + n;
      const exporter = pk.createExporter({
        index: i,
        srcIp,
        recordsPerDatagram: o.recordsPerDatagram,
        templateRefreshDatagrams: o.templateRefreshDatagrams,
        capture: entry.capture ?? o.capture,
      });
      made.push({ kind: k, exporter, srcPort, dstPort });
      exporters.push({ kind, srcIp, srcPort, dstPort, identity: exporter.identity });
    }
  });
  // Every exporter's frame buffer is carved out of one ArrayBuffer (8-byte aligned): the checksum reads long
  // ranges through a cached 32-bit view of the buffer it last summed (codec/checksum.ts), which a buffer
  // per exporter would defeat on every frame (measured: a tenth of the time went to making views).
  const laneBytes = made.map((m) => (payloadAt + m.exporter.maxPayloadBytes + 7) & ~7);
  const backing = new ArrayBuffer(laneBytes.reduce((a, b) => a + b, 0));
  const lanesByKind: Lane[][] = mix.map(() => []);
  let at = 0;
  made.forEach(({ kind, exporter, srcPort, dstPort }, j) => {
    const header = new Uint8Array(backing, at, payloadAt + exporter.maxPayloadBytes);
    at += laneBytes[j];
    if (l2)
      ethernet.encode(
        {
          dst: toMac(o.dstMac ?? '02:00:00:00:00:02'),
          src: toMac(o.srcMac ?? '02:00:00:00:00:01'),
          etherType: ETHERTYPE_IPV4,
        },
        header,
        0,
      );
    ipv4.encode(
      {
        dscp: 0,
        ecn: 0,
        totalLength: IPV4_HEADER_BYTES + UDP_HEADER_BYTES,
        id: 0,
        dontFragment: false,
        moreFragments: false,
        fragmentOffsetBytes: 0,
        ttl: o.ttl ?? 64,
        protocol: IP_PROTO_UDP,
        src: exporter.srcIp,
        dst,
      },
      header,
      ipAt,
    );
    udp.encode({ srcPort, dstPort, length: 0, checksum: 0 }, header, udpAt);
    writeU16(header, ipAt + 2, 0); // total length, id and checksum are per frame: 0 in the sums
    writeU16(header, ipAt + 10, 0);
    lanesByKind[kind].push({
      exporter,
      buf: header,
      views: [],
      ipId: 0,
      ipHeaderSum: onesComplementSum(header, ipAt, IPV4_HEADER_BYTES),
      udpHeaderSum: pseudoHeaderSum(header, ipAt + 12, ipAt + 16, IP_PROTO_UDP, 0) + srcPort + dstPort,
    });
  });
  const maxLengthBytes = Math.max(...lanesByKind.flat().map((l) => payloadAt + l.exporter.maxPayloadBytes));
  if (maxLengthBytes > 65535 + l2Bytes)
    throw new ChainprobeError('E_CONFIG', `datagrams of ${maxLengthBytes} bytes do not fit IPv4`, true);
  const weights = mix.map((m) => m.weight);
  const total = weights.reduce((a, b) => a + b, 0);
  const current = new Float64Array(mix.length);
  const turn = new Uint32Array(mix.length);
  const startMs = o.startMs ?? Date.now();
  const msPerFrame = o.msPerFrame ?? 0.1;
  // The exporters are stateful (sequence numbers): asking again for the frame just made returns it, not the
  // next datagram. The injector's plan and preflight look at frame 0 before sending; each look used to cost
  // an exporter its first datagram — the one carrying the templates (190 flows undecodable, pmacct saw it).
  let lastIndex = -1;
  let lastFrame: Uint8Array = new Uint8Array(0);
  return {
    kind: l2 ? 'ethernet' : 'ipv4',
    maxLengthBytes,
    exporters,
    next(i) {
      if (i === lastIndex) return lastFrame;
      lastIndex = i;
      // Smooth weighted round robin: every kind gains its weight, the richest sends and pays the total.
      let k = 0;
      for (let j = 0; j < current.length; j++) {
        current[j] += weights[j];
        if (current[j] > current[k]) k = j;
      }
      current[k] -= total;
      const lanes = lanesByKind[k];
      const lane = lanes[turn[k]];
      turn[k] = turn[k] + 1 === lanes.length ? 0 : turn[k] + 1;
      const buf = lane.buf;
      const payload = lane.exporter.write(buf, payloadAt, Math.floor(startMs + i * msPerFrame));
      const ipLength = IPV4_HEADER_BYTES + UDP_HEADER_BYTES + payload;
      const udpLength = UDP_HEADER_BYTES + payload;
      writeU16(buf, ipAt + 2, ipLength);
      writeU16(buf, ipAt + 4, lane.ipId);
      writeU16(buf, ipAt + 10, checksumOfSum(lane.ipHeaderSum + ipLength + lane.ipId));
      lane.ipId = (lane.ipId + 1) & 0xffff;
      writeU16(buf, udpAt + 4, udpLength);
      if (checksum) {
        // the UDP length counts twice: in the pseudo-header and in the header; RFC 768 sends 0 as 0xffff
        const c = checksumOfSum(
          lane.udpHeaderSum + 2 * udpLength + onesComplementSum(buf, payloadAt, payload),
        );
        writeU16(buf, udpAt + 6, c === 0 ? 0xffff : c);
      }
      const length = payloadAt + payload;
      lane.views[length] ??= buf.subarray(0, length);
      lastFrame = lane.views[length];
      return lastFrame;
    },
  };
}
