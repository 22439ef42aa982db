/**
 * sFlow version 5 datagram (sflow.org sflow_version_5.txt), XDR: big-endian, every item 4-byte aligned.
 *
 *   datagram: 0 version=5 | 4 agent address type (1 = IPv4) | 8 agent address | 12 subAgentId
 *             | 16 sequence (counts *datagrams* per agent/sub-agent) | 20 uptime ms | 24 sample count | 28 samples
 *   sample:   format (enterprise:20 format:12) | length | data
 *     flow sample (0:1):    sequence | sourceId (type:8 index:24) | samplingRate | samplePool | drops | input
 *                           | output | record count | records
 *       raw packet header (0:1): protocol (1 = Ethernet) | frameLength | stripped | header length | header (padded)
 *     counter sample (0:2): sequence | sourceId | record count | records
 *       generic interface counters (0:1): 88 bytes (ifIndex … ifPromiscuousMode)
 * Samples and records of other formats are kept as raw bytes (encode → decode is byte-exact).
 */
import { checkUint, needBytes, readU32, readU64, targetBuffer, writeU32, writeU64 } from '../bytes.ts';
import type { Codec } from '../codec.ts';
import { DecodeError, EncodeError } from '../errors.ts';
import { pad4 } from './templates.ts';

export const SFLOW_HEADER_BYTES = 28;
export const SFLOW_FLOW_SAMPLE = 1;
export const SFLOW_COUNTER_SAMPLE = 2;
export const SFLOW_RAW_HEADER = 1;
export const SFLOW_GENERIC_INTERFACE = 1;
export const SFLOW_HEADER_PROTOCOL_ETHERNET = 1;
const GENERIC_INTERFACE_BYTES = 88;

export interface SflowRawHeader {
  kind: 'raw-header';
  protocol: number;
  frameLength: number;
  stripped: number;
  header: Uint8Array;
}

/** Generic interface counters: 64-bit counters are bigints, the rest numbers. */
export interface SflowInterfaceCounters {
  kind: 'generic-interface';
  ifIndex: number;
  ifType: number;
  ifSpeed: bigint;
  ifDirection: number;
  ifStatus: number;
  ifInOctets: bigint;
  ifInUcastPkts: number;
  ifInMulticastPkts: number;
  ifInBroadcastPkts: number;
  ifInDiscards: number;
  ifInErrors: number;
  ifInUnknownProtos: number;
  ifOutOctets: bigint;
  ifOutUcastPkts: number;
  ifOutMulticastPkts: number;
  ifOutBroadcastPkts: number;
  ifOutDiscards: number;
  ifOutErrors: number;
  ifPromiscuousMode: number;
}

/** A record or sample of a format this codec does not interpret: `format` is the full data-format word. */
export interface SflowOpaque {
  kind: 'opaque';
  format: number;
  data: Uint8Array;
}

export interface SflowFlowSample {
  kind: 'flow';
  sequence: number;
  sourceId: number;
  samplingRate: number;
  samplePool: number;
  drops: number;
  input: number;
  output: number;
  records: (SflowRawHeader | SflowOpaque)[];
}

export interface SflowCounterSample {
  kind: 'counter';
  sequence: number;
  sourceId: number;
  records: (SflowInterfaceCounters | SflowOpaque)[];
}

export interface SflowDatagram {
  agent: number;
  subAgentId: number;
  sequence: number;
  uptimeMs: number;
  samples: (SflowFlowSample | SflowCounterSample | SflowOpaque)[];
}

const LAYER = 'sflow';

// Generic interface counters: field name and width (4 or 8 bytes), in wire order.
const COUNTER_FIELDS: [Exclude<keyof SflowInterfaceCounters, 'kind'>, 4 | 8][] = [
  ['ifIndex', 4],
  ['ifType', 4],
  ['ifSpeed', 8],
  ['ifDirection', 4],
  ['ifStatus', 4],
  ['ifInOctets', 8],
  ['ifInUcastPkts', 4],
  ['ifInMulticastPkts', 4],
  ['ifInBroadcastPkts', 4],
  ['ifInDiscards', 4],
  ['ifInErrors', 4],
  ['ifInUnknownProtos', 4],
  ['ifOutOctets', 8],
  ['ifOutUcastPkts', 4],
  ['ifOutMulticastPkts', 4],
  ['ifOutBroadcastPkts', 4],
  ['ifOutDiscards', 4],
  ['ifOutErrors', 4],
  ['ifPromiscuousMode', 4],
];

type Rec = SflowRawHeader | SflowInterfaceCounters | SflowOpaque;

function recordBytes(r: Rec): number {
  if (r.kind === 'raw-header') return 16 + r.header.length + pad4(r.header.length);
  if (r.kind === 'generic-interface') return GENERIC_INTERFACE_BYTES;
  return r.data.length + pad4(r.data.length);
}

function sampleBytes(s: SflowDatagram['samples'][number]): number {
  if (s.kind === 'opaque') return s.data.length + pad4(s.data.length);
  const head = s.kind === 'flow' ? 32 : 12;
  return s.records.reduce((n, r) => n + 8 + recordBytes(r), head);
}

function writeRecord(b: Uint8Array, o: number, r: Rec): number {
  const len = recordBytes(r);
  writeU32(
    b,
    o,
    r.kind === 'opaque' ? r.format : r.kind === 'raw-header' ? SFLOW_RAW_HEADER : SFLOW_GENERIC_INTERFACE,
  );
  writeU32(b, o + 4, len);
  const p = o + 8;
  if (r.kind === 'raw-header') {
    writeU32(b, p, r.protocol);
    writeU32(b, p + 4, r.frameLength);
    writeU32(b, p + 8, r.stripped);
    writeU32(b, p + 12, r.header.length);
    b.set(r.header, p + 16);
    b.fill(0, p + 16 + r.header.length, p + len);
  } else if (r.kind === 'generic-interface') {
    let q = p;
    for (const [k, w] of COUNTER_FIELDS) {
      const v = r[k];
      if (w === 8) writeU64(b, q, v as bigint);
      else {
        checkUint(LAYER, k, v as number, 0xffffffff);
        writeU32(b, q, v as number);
      }
      q += w;
    }
  } else {
    b.set(r.data, p);
    b.fill(0, p + r.data.length, p + len);
  }
  return 8 + len;
}

export const sflow: Codec<SflowDatagram> = {
  name: LAYER,
  encodingLength: (v) => v.samples.reduce((n, s) => n + 8 + sampleBytes(s), SFLOW_HEADER_BYTES),
  encode(v, buf, offset = 0) {
    const n = sflow.encodingLength(v);
    for (const k of ['agent', 'subAgentId', 'sequence', 'uptimeMs'] as const)
      checkUint(LAYER, k, v[k], 0xffffffff);
    const b = targetBuffer(buf, offset, n, LAYER);
    writeU32(b, offset, 5);
    writeU32(b, offset + 4, 1);
    writeU32(b, offset + 8, v.agent);
    writeU32(b, offset + 12, v.subAgentId);
    writeU32(b, offset + 16, v.sequence);
    writeU32(b, offset + 20, v.uptimeMs);
    writeU32(b, offset + 24, v.samples.length);
    let o = offset + SFLOW_HEADER_BYTES;
    for (const s of v.samples) {
      const len = sampleBytes(s);
      writeU32(
        b,
        o,
        s.kind === 'opaque' ? s.format : s.kind === 'flow' ? SFLOW_FLOW_SAMPLE : SFLOW_COUNTER_SAMPLE,
      );
      writeU32(b, o + 4, len);
      let p = o + 8;
      if (s.kind === 'opaque') {
        b.set(s.data, p);
        b.fill(0, p + s.data.length, p + len);
      } else {
        const head =
          s.kind === 'flow'
            ? [
                s.sequence,
                s.sourceId,
                s.samplingRate,
                s.samplePool,
                s.drops,
                s.input,
                s.output,
                s.records.length,
              ]
            : [s.sequence, s.sourceId, s.records.length];
        for (const x of head) {
          checkUint(LAYER, `${s.kind}-sample`, x, 0xffffffff);
          writeU32(b, p, x);
          p += 4;
        }
        for (const r of s.records) p += writeRecord(b, p, r);
      }
      o += 8 + len;
    }
    if (o !== offset + n) throw new EncodeError(LAYER, 'samples', 'internal length mismatch');
    return n;
  },
  decode(buf, offset = 0) {
    return decodeSflow(buf, offset, buf.length);
  },
};

function decodeRecords(
  buf: Uint8Array,
  o: number,
  end: number,
  count: number,
  sampleKind: 'flow' | 'counter',
): { records: Rec[]; end: number } {
  const records: Rec[] = [];
  for (let i = 0; i < count; i++) {
    if (o + 8 > end) throw new DecodeError(LAYER, o, `record ${i} of ${count}: truncated header`);
    const format = readU32(buf, o);
    const len = readU32(buf, o + 4);
    const p = o + 8;
    if (len > end - p) throw new DecodeError(LAYER, o + 4, `record length ${len} overruns the sample`);
    if (sampleKind === 'flow' && format === SFLOW_RAW_HEADER) {
      if (len < 16) throw new DecodeError(LAYER, p, `raw header record of ${len} bytes`);
      const hlen = readU32(buf, p + 12);
      if (16 + hlen > len) throw new DecodeError(LAYER, p + 12, `header length ${hlen} overruns the record`);
      records.push({
        kind: 'raw-header',
        protocol: readU32(buf, p),
        frameLength: readU32(buf, p + 4),
        stripped: readU32(buf, p + 8),
        header: buf.slice(p + 16, p + 16 + hlen),
      });
    } else if (
      sampleKind === 'counter' &&
      format === SFLOW_GENERIC_INTERFACE &&
      len === GENERIC_INTERFACE_BYTES
    ) {
      const r: Record<string, number | bigint> = {};
      let q = p;
      for (const [k, w] of COUNTER_FIELDS) {
        r[k] = w === 8 ? readU64(buf, q) : readU32(buf, q);
        q += w;
      }
      records.push({ kind: 'generic-interface', ...r } as unknown as SflowInterfaceCounters);
    } else records.push({ kind: 'opaque', format, data: buf.slice(p, p + len) });
    o = p + len;
  }
  return { records, end: o };
}

export function decodeSflow(
  buf: Uint8Array,
  offset: number,
  end: number,
): { value: SflowDatagram; bytesRead: number } {
  needBytes(buf, offset, SFLOW_HEADER_BYTES, LAYER);
  const version = readU32(buf, offset);
  if (version !== 5) throw new DecodeError(LAYER, offset, `version ${version}, expected 5`);
  const addrType = readU32(buf, offset + 4);
  if (addrType !== 1)
    throw new DecodeError(LAYER, offset + 4, `agent address type ${addrType}: only IPv4 (1) is decoded`);
  const count = readU32(buf, offset + 24);
  const samples: SflowDatagram['samples'] = [];
  let o = offset + SFLOW_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (o + 8 > end) throw new DecodeError(LAYER, o, `sample ${i} of ${count}: truncated header`);
    const format = readU32(buf, o);
    const len = readU32(buf, o + 4);
    const p = o + 8;
    if (len > end - p) throw new DecodeError(LAYER, o + 4, `sample length ${len} overruns the datagram`);
    const sEnd = p + len;
    if (format === SFLOW_FLOW_SAMPLE) {
      if (len < 32) throw new DecodeError(LAYER, p, `flow sample of ${len} bytes`);
      const h = (k: number) => readU32(buf, p + 4 * k);
      const r = decodeRecords(buf, p + 32, sEnd, h(7), 'flow');
      samples.push({
        kind: 'flow',
        sequence: h(0),
        sourceId: h(1),
        samplingRate: h(2),
        samplePool: h(3),
        drops: h(4),
        input: h(5),
        output: h(6),
        records: r.records as SflowFlowSample['records'],
      });
    } else if (format === SFLOW_COUNTER_SAMPLE) {
      if (len < 12) throw new DecodeError(LAYER, p, `counter sample of ${len} bytes`);
      const r = decodeRecords(buf, p + 12, sEnd, readU32(buf, p + 8), 'counter');
      samples.push({
        kind: 'counter',
        sequence: readU32(buf, p),
        sourceId: readU32(buf, p + 4),
        records: r.records as SflowCounterSample['records'],
      });
    } else samples.push({ kind: 'opaque', format, data: buf.slice(p, sEnd) });
    o = sEnd;
  }
  return {
    value: {
      agent: readU32(buf, offset + 8),
      subAgentId: readU32(buf, offset + 12),
      sequence: readU32(buf, offset + 16),
      uptimeMs: readU32(buf, offset + 20),
      samples,
    },
    bytesRead: o - offset,
  };
}
