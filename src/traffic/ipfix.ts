/**
 * IPFIX exporter (RFC 7011): template 256 (IPv4 flow with flowStart/EndMilliseconds, IE 152/153 — nfdump
 * 1.7.1 ignores the seconds IEs 150/151) and options template 257 (exporting-process statistics scoped to
 * the observation domain), first and every `templateRefreshDatagrams` messages, always in a message that
 * also carries flow records (so every message has its own sequence number). `sequence` counts data records
 * sent before the message. No options *data* record is sent: RFC 7011 counts it in the sequence, nfcapd
 * 1.7.1 does not (it logs a sequence failure per options record) — measured here.
 */
import { writeU16, writeU32 } from '../codec/bytes.ts';
import { IPFIX_UDP_PORT, NETFLOW_UDP_PORT } from '../codec/flow/cflow-layer.ts';
import { IPFIX_HEADER_BYTES, type IpfixMessage, ipfix } from '../codec/flow/ipfix.ts';
import type { Template } from '../codec/flow/templates.ts';
import type { ExporterOptions, FlowExporter, PayloadKind } from './exporter.ts';
import { flowPool } from './flow-pool.ts';
import { buildPieces, type TemplatedProtocol, writeSets, writeU64Number } from './templated.ts';

const FLOW_TEMPLATE: Template = {
  templateId: 256,
  fields: [
    { id: 1, length: 8 }, // octetDeltaCount
    { id: 2, length: 8 }, // packetDeltaCount
    { id: 4, length: 1 }, // protocolIdentifier
    { id: 5, length: 1 }, // ipClassOfService
    { id: 6, length: 2 }, // tcpControlBits
    { id: 7, length: 2 }, // sourceTransportPort
    { id: 8, length: 4 }, // sourceIPv4Address
    { id: 10, length: 4 }, // ingressInterface
    { id: 11, length: 2 }, // destinationTransportPort
    { id: 12, length: 4 }, // destinationIPv4Address
    { id: 14, length: 4 }, // egressInterface
    { id: 152, length: 8 }, // flowStartMilliseconds
    { id: 153, length: 8 }, // flowEndMilliseconds
  ],
};
const START_AT = 40;
const END_AT = 48;

const OPTIONS_TEMPLATE: Template = {
  templateId: 257,
  scopeFieldCount: 1,
  fields: [
    { id: 149, length: 4 }, // scope: observationDomainId
    { id: 41, length: 8 }, // exportedMessageTotalCount
    { id: 42, length: 8 }, // exportedFlowRecordTotalCount
  ],
};

const IPFIX: TemplatedProtocol<IpfixMessage> = {
  layer: 'ipfix',
  headerBytes: IPFIX_HEADER_BYTES,
  dataSetId: FLOW_TEMPLATE.templateId,
  codec: ipfix,
  flowTemplate: FLOW_TEMPLATE,
  optionsTemplate: OPTIONS_TEMPLATE,
  optionsRecord: (identity) => [identity, 0n, 0n],
  templatesMessage: (t) => ({
    exportTime: 0,
    sequence: 0,
    observationDomainId: 0,
    sets: [
      { kind: 'template', templates: [t.flow] },
      { kind: 'options-template', templates: [t.options] },
    ],
  }),
  templatesMessageRecords: { data: 0, all: 2 },
  record: (f) => [
    BigInt(f.octets),
    BigInt(f.packets),
    f.protocol,
    f.tos,
    f.tcpFlags,
    f.srcPort,
    f.src,
    f.input,
    f.dstPort,
    f.dst,
    f.output,
    0n,
    0n,
  ],
  patchRecord(buf, p, f, nowMs) {
    const end = nowMs - f.endAgoMs;
    writeU64Number(buf, p + START_AT, end - f.durationMs);
    writeU64Number(buf, p + END_AT, end);
  },
};

export function createIpfixExporter(o: ExporterOptions): FlowExporter {
  const perMessage = o.recordsPerDatagram ?? 10;
  const refresh = o.templateRefreshDatagrams ?? 20;
  const flows = flowPool(0x10000 + o.index, 64);
  const identity = (0x1000 + o.index) >>> 0;
  const pieces = buildPieces(IPFIX, flows, identity, perMessage);
  let sequence = 0;
  let messages = 0;
  let next = 0;
  return {
    kind: 'ipfix',
    srcIp: o.srcIp,
    identity,
    maxPayloadBytes:
      IPFIX_HEADER_BYTES + pieces.templateSets.length + 4 + perMessage * pieces.recordBytes + 3,
    write(buf, offset, nowMs) {
      const withTemplates = messages % refresh === 0;
      const end = writeSets(IPFIX, pieces, flows, buf, offset, withTemplates, next, nowMs, 0);
      next = (next + perMessage) % flows.length;
      writeU16(buf, offset, 10);
      writeU16(buf, offset + 2, end - offset);
      writeU32(buf, offset + 4, Math.floor(nowMs / 1000));
      writeU32(buf, offset + 8, sequence);
      writeU32(buf, offset + 12, identity);
      sequence = (sequence + perMessage + (withTemplates ? pieces.templateSetRecords : 0)) >>> 0;
      messages++;
      return end - offset;
    },
  };
}

/** IPFIX goes to 2055 by default like NetFlow (the chain's mirrored port); IANA's 4739 is bound too. */
export const ipfixKind: PayloadKind = {
  name: 'ipfix',
  defaultPort: NETFLOW_UDP_PORT,
  createExporter: createIpfixExporter,
};
export { IPFIX_UDP_PORT };
