/**
 * What the NetFlow v9 and IPFIX exporters share: template (and options template) sets encoded once by the
 * codecs, a pool of data records encoded once, and per datagram: header, the template sets when due,
 * one data set of `perDatagram` records copied from the pool with their times patched.
 */
import { writeU16, writeU32 } from '../codec/bytes.ts';
import type { Codec } from '../codec/codec.ts';
import { type FieldValue, type Template, writeValue } from '../codec/flow/templates.ts';
import { type PoolFlow, RecordRing } from './flow-pool.ts';

export interface TemplatedProtocol<P> {
  layer: string;
  headerBytes: number;
  dataSetId: number;
  /** a message carrying only the template sets (and any options data set), for slicing out their bytes */
  templatesMessage(t: { flow: Template; options: Template; optionsRecord: FieldValue[] }): P;
  /** data records and records of every kind in that message (IPFIX sequence; v9 count) */
  templatesMessageRecords: { data: number; all: number };
  codec: Codec<P>;
  flowTemplate: Template;
  optionsTemplate: Template;
  optionsRecord(identity: number): FieldValue[];
  record(f: PoolFlow): FieldValue[];
  /** patch the record at `p` (its times) for a datagram exported at nowMs / uptimeMs */
  patchRecord(buf: Uint8Array, p: number, f: PoolFlow, nowMs: number, uptimeMs: number): void;
}

export interface TemplatedPieces {
  /** the template sets (+ options data set), as they follow the header */
  templateSets: Uint8Array;
  /** data records in templateSets (the options data record) */
  templateSetRecords: number;
  /** templates + options templates + options data records (v9's count field) */
  templateSetCount: number;
  ring: RecordRing;
  recordBytes: number;
}

export function buildPieces<P>(
  proto: TemplatedProtocol<P>,
  flows: PoolFlow[],
  identity: number,
  perDatagram: number,
): TemplatedPieces {
  const msg = proto.templatesMessage({
    flow: proto.flowTemplate,
    options: proto.optionsTemplate,
    optionsRecord: proto.optionsRecord(identity),
  });
  const bytes = new Uint8Array(proto.codec.encodingLength(msg));
  proto.codec.encode(msg, bytes, 0);
  const recordBytes = proto.flowTemplate.fields.reduce((a, f) => a + f.length, 0);
  const records = flows.map((f) => {
    const r = new Uint8Array(recordBytes);
    const values = proto.record(f);
    let p = 0;
    proto.flowTemplate.fields.forEach((field, j) => {
      p += writeValue(proto.layer, field, values[j], r, p);
    });
    return r;
  });
  return {
    templateSets: bytes.slice(proto.headerBytes),
    templateSetRecords: proto.templatesMessageRecords.data,
    templateSetCount: proto.templatesMessageRecords.all,
    ring: new RecordRing(records, perDatagram),
    recordBytes,
  };
}

/**
 * Writes templates (when `withTemplates`) and one data set of the ring's `perChunk` records starting at
 * pool index `first`, after the header at `offset`. Returns the end offset. The data set is padded to 4 bytes.
 */
export function writeSets<P>(
  proto: TemplatedProtocol<P>,
  pieces: TemplatedPieces,
  flows: PoolFlow[],
  buf: Uint8Array,
  offset: number,
  withTemplates: boolean,
  first: number,
  nowMs: number,
  uptimeMs: number,
): number {
  let p = offset + proto.headerBytes;
  if (withTemplates) {
    buf.set(pieces.templateSets, p);
    p += pieces.templateSets.length;
  }
  const setStart = p;
  p += 4;
  const n = flows.length;
  const chunk = pieces.ring.chunk(first);
  buf.set(chunk, p);
  for (let k = first; p < setStart + 4 + chunk.length; k = k + 1 === n ? 0 : k + 1) {
    proto.patchRecord(buf, p, flows[k], nowMs, uptimeMs);
    p += pieces.recordBytes;
  }
  while ((p - setStart) & 3) buf[p++] = 0;
  writeU16(buf, setStart, proto.dataSetId);
  writeU16(buf, setStart + 2, p - setStart);
  return p;
}

/** 64-bit big-endian write of a non-negative integer below 2^53 (ms timestamps) without BigInt. */
export function writeU64Number(buf: Uint8Array, o: number, v: number): void {
  writeU32(buf, o, Math.floor(v / 4294967296));
  writeU32(buf, o + 4, v >>> 0);
}
