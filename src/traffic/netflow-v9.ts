/**
 * NetFlow v9 exporter (RFC 3954): template 256 (the classic IPv4 flow fields) and options template 257
 * (sampling interval/algorithm, scoped to the system) with their options record, sent first and every
 * `templateRefreshDatagrams` packets; then data FlowSets. `sequence` counts export packets; `count` counts
 * every record in the packet; source id = exporter identity.
 */
import { writeU16, writeU32 } from '../codec/bytes.ts';
import { NETFLOW_UDP_PORT } from '../codec/flow/cflow-layer.ts';
import { NETFLOW_V9_HEADER_BYTES, type NetflowV9Packet, netflowV9 } from '../codec/flow/netflow-v9.ts';
import type { Template } from '../codec/flow/templates.ts';
import { BOOT_AGO_MS, type ExporterOptions, type FlowExporter, type PayloadKind } from './exporter.ts';
import { flowPool } from './flow-pool.ts';
import { buildPieces, type TemplatedProtocol, writeSets } from './templated.ts';

const FLOW_TEMPLATE: Template = {
  templateId: 256,
  fields: [
    { id: 1, length: 4 }, // IN_BYTES
    { id: 2, length: 4 }, // IN_PKTS
    { id: 4, length: 1 }, // PROTOCOL
    { id: 5, length: 1 }, // SRC_TOS
    { id: 6, length: 1 }, // TCP_FLAGS
    { id: 7, length: 2 }, // L4_SRC_PORT
    { id: 8, length: 4 }, // IPV4_SRC_ADDR
    { id: 9, length: 1 }, // SRC_MASK
    { id: 10, length: 2 }, // INPUT_SNMP
    { id: 11, length: 2 }, // L4_DST_PORT
    { id: 12, length: 4 }, // IPV4_DST_ADDR
    { id: 13, length: 1 }, // DST_MASK
    { id: 14, length: 2 }, // OUTPUT_SNMP
    { id: 15, length: 4 }, // IPV4_NEXT_HOP
    { id: 21, length: 4 }, // LAST_SWITCHED
    { id: 22, length: 4 }, // FIRST_SWITCHED
  ],
};
const LAST_SWITCHED_AT = 33;
const FIRST_SWITCHED_AT = 37;

const OPTIONS_TEMPLATE: Template = {
  templateId: 257,
  scopeFieldCount: 1,
  fields: [
    { id: 1, length: 4 }, // scope: System
    { id: 34, length: 4 }, // SAMPLING_INTERVAL
    { id: 35, length: 1 }, // SAMPLING_ALGORITHM
  ],
};

const V9: TemplatedProtocol<NetflowV9Packet> = {
  layer: 'netflow-v9',
  headerBytes: NETFLOW_V9_HEADER_BYTES,
  dataSetId: FLOW_TEMPLATE.templateId,
  codec: netflowV9,
  flowTemplate: FLOW_TEMPLATE,
  optionsTemplate: OPTIONS_TEMPLATE,
  optionsRecord: (identity) => [identity, 1, 1],
  templatesMessageRecords: { data: 1, all: 3 },
  templatesMessage: (t) => ({
    sysUptimeMs: 0,
    unixSecs: 0,
    sequence: 0,
    sourceId: 0,
    flowSets: [
      { kind: 'template', templates: [t.flow] },
      { kind: 'options-template', templates: [t.options] },
      { kind: 'data', templateId: t.options.templateId, records: [t.optionsRecord] },
    ],
  }),
  record: (f) => [
    f.octets,
    f.packets,
    f.protocol,
    f.tos,
    f.tcpFlags,
    f.srcPort,
    f.src,
    24,
    f.input,
    f.dstPort,
    f.dst,
    24,
    f.output,
    0,
    0,
    0,
  ],
  patchRecord(buf, p, f, _nowMs, uptimeMs) {
    const last = Math.max(0, uptimeMs - f.endAgoMs);
    writeU32(buf, p + LAST_SWITCHED_AT, last);
    writeU32(buf, p + FIRST_SWITCHED_AT, Math.max(0, last - f.durationMs));
  },
};

export function createNetflowV9Exporter(o: ExporterOptions): FlowExporter {
  const perPacket = o.recordsPerDatagram ?? 10;
  const refresh = o.templateRefreshDatagrams ?? 20;
  const flows = flowPool(0x9000 + o.index, 64);
  const identity = (0x900 + o.index) >>> 0;
  const pieces = buildPieces(V9, flows, identity, perPacket);
  let sequence = 0;
  let next = 0;
  let bootMs = -1;
  return {
    kind: 'netflow-v9',
    srcIp: o.srcIp,
    identity,
    maxPayloadBytes:
      NETFLOW_V9_HEADER_BYTES + pieces.templateSets.length + 4 + perPacket * pieces.recordBytes + 3,
    write(buf, offset, nowMs) {
      if (bootMs < 0) bootMs = nowMs - BOOT_AGO_MS;
      const uptime = (nowMs - bootMs) >>> 0;
      const withTemplates = sequence % refresh === 0;
      const end = writeSets(V9, pieces, flows, buf, offset, withTemplates, next, nowMs, uptime);
      next = (next + perPacket) % flows.length;
      writeU16(buf, offset, 9);
      writeU16(buf, offset + 2, perPacket + (withTemplates ? pieces.templateSetCount : 0));
      writeU32(buf, offset + 4, uptime);
      writeU32(buf, offset + 8, Math.floor(nowMs / 1000));
      writeU32(buf, offset + 12, sequence);
      writeU32(buf, offset + 16, identity);
      sequence = (sequence + 1) >>> 0;
      return end - offset;
    },
  };
}

export const netflowV9Kind: PayloadKind = {
  name: 'netflow-v9',
  defaultPort: NETFLOW_UDP_PORT,
  createExporter: createNetflowV9Exporter,
};
