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
 */
import type { ChainOracle } from '../chain/oracle.ts';
import { toIpv4 } from '../codec/address.ts';
import { writeU16 } from '../codec/bytes.ts';
import { ETHERNET_HEADER_BYTES } from '../codec/ethernet.ts';
import { fillIpv4Checksum } from '../codec/ipv4.ts';
import { PROBE_HEADER_BYTES } from '../codec/probe.ts';
import { createVxlanTemplate } from '../codec/template.ts';
import { fillUdpChecksum } from '../codec/udp.ts';
import { ChainprobeError } from '../errors.ts';
import type { RunIdentity } from '../inject/plan.ts';
import type { FrameKind, FrameSource } from '../inject/types.ts';
import { createFlowMixSource, type FlowMixSource, parseMix } from '../traffic/mix.ts';

export interface FlowTraffic {
  /** e.g. 'netflow-v9:50,ipfix:30,sflow:20' */
  mix: string;
  /** exporters per kind (default 1) */
  exporters?: number;
}

export interface FlowExportFrames extends FrameSource {
  /** the exporters behind the frames (their inner source address, port, identity) */
  readonly exporters: FlowMixSource['exporters'];
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
  const mix = parseMix(traffic.mix);
  const perKind = traffic.exporters ?? 1;
  if (perKind * mix.length > MAX_EXPORTERS)
    throw new ChainprobeError(
      'E_CONFIG',
      `--exporters ${perKind} × ${mix.length} kinds = ${perKind * mix.length} exporters: at most ${MAX_EXPORTERS} fit the inner prefix`,
      true,
    );
  // The probe template's outer headers, built once by the same code and spec as the probes'.
  const spec = oracle.templateSpec({ payloadBytes: PROBE_HEADER_BYTES, runId: identity.runId });
  const probe = createVxlanTemplate({ ...spec, ipIdBase: identity.ipIdBase });
  const L = probe.layout;
  const innerAt = L.innerIpv4 - ETHERNET_HEADER_BYTES; // where the inner Ethernet header starts
  const outerPrefix = probe.frame.slice(0, innerAt);
  const { inner, outer } = spec;
  const inners = createFlowMixSource({
    mix,
    exporters: perKind,
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
  return {
    kind,
    maxLengthBytes: buf.length - (kind === 'ipv4' ? ipAt : 0),
    exporters: inners.exporters,
    next(i) {
      const frame = inners.next(i);
      buf.set(frame, innerAt);
      const end = innerAt + frame.length;
      writeU16(buf, ipAt + 2, end - ipAt);
      writeU16(buf, ipAt + 4, (identity.ipIdBase + i) & 0xffff);
      fillIpv4Checksum(buf, ipAt);
      writeU16(buf, udpAt, outer.srcPortBase + (i % outer.srcPortCount));
      writeU16(buf, udpAt + 4, end - udpAt);
      writeU16(buf, udpAt + 6, 0);
      if (outer.udpChecksum) fillUdpChecksum(buf, ipAt, udpAt);
      const from = kind === 'ipv4' ? ipAt : 0;
      views[end] ??= buf.subarray(from, end);
      return views[end];
    },
  };
}
