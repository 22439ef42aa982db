/**
 * NetFlow v5 export packet (Cisco; no RFC): a 24-byte header and up to 30 fixed 48-byte flow records.
 *
 *   header: 0 version=5 | 2 count | 4 sysUptime ms | 8 unixSecs | 12 unixNsecs | 16 flowSequence
 *           | 20 engineType | 21 engineId | 22 samplingInterval (mode:2 interval:14)
 *   record: 0 srcAddr | 4 dstAddr | 8 nextHop | 12 input | 14 output | 16 packets | 20 octets | 24 first ms
 *           | 28 last ms | 32 srcPort | 34 dstPort | 36 pad | 37 tcpFlags | 38 protocol | 39 tos | 40 srcAs
 *           | 42 dstAs | 44 srcMask | 45 dstMask | 46 pad(2)
 *
 * flowSequence counts *flows* exported before this packet (the collector checks it against the counts).
 */
import { checkUint, needBytes, readU16, readU32, targetBuffer, writeU16, writeU32 } from '../bytes.ts';
import type { Codec } from '../codec.ts';
import { DecodeError, EncodeError } from '../errors.ts';

export const NETFLOW_V5_HEADER_BYTES = 24;
export const NETFLOW_V5_RECORD_BYTES = 48;
export const NETFLOW_V5_MAX_RECORDS = 30;

export interface NetflowV5Record {
  srcAddr: number;
  dstAddr: number;
  nextHop: number;
  input: number;
  output: number;
  packets: number;
  octets: number;
  firstMs: number;
  lastMs: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  protocol: number;
  tos: number;
  srcAs: number;
  dstAs: number;
  srcMask: number;
  dstMask: number;
}

export interface NetflowV5Packet {
  sysUptimeMs: number;
  unixSecs: number;
  unixNsecs: number;
  flowSequence: number;
  engineType: number;
  engineId: number;
  samplingInterval: number;
  records: NetflowV5Record[];
}

const LAYER = 'netflow-v5';

/** Writes one record at `o` (no checks: the generator's hot path; the codec checks before calling). */
export function writeNetflowV5Record(b: Uint8Array, o: number, r: NetflowV5Record): void {
  writeU32(b, o, r.srcAddr);
  writeU32(b, o + 4, r.dstAddr);
  writeU32(b, o + 8, r.nextHop);
  writeU16(b, o + 12, r.input);
  writeU16(b, o + 14, r.output);
  writeU32(b, o + 16, r.packets);
  writeU32(b, o + 20, r.octets);
  writeU32(b, o + 24, r.firstMs);
  writeU32(b, o + 28, r.lastMs);
  writeU16(b, o + 32, r.srcPort);
  writeU16(b, o + 34, r.dstPort);
  b[o + 36] = 0;
  b[o + 37] = r.tcpFlags;
  b[o + 38] = r.protocol;
  b[o + 39] = r.tos;
  writeU16(b, o + 40, r.srcAs);
  writeU16(b, o + 42, r.dstAs);
  b[o + 44] = r.srcMask;
  b[o + 45] = r.dstMask;
  writeU16(b, o + 46, 0);
}

function checkRecord(r: NetflowV5Record, i: number): void {
  const f = (name: string) => `records[${i}].${name}`;
  for (const k of ['srcAddr', 'dstAddr', 'nextHop', 'packets', 'octets', 'firstMs', 'lastMs'] as const)
    checkUint(LAYER, f(k), r[k], 0xffffffff);
  for (const k of ['input', 'output', 'srcPort', 'dstPort', 'srcAs', 'dstAs'] as const)
    checkUint(LAYER, f(k), r[k], 0xffff);
  for (const k of ['tcpFlags', 'protocol', 'tos'] as const) checkUint(LAYER, f(k), r[k], 255);
  checkUint(LAYER, f('srcMask'), r.srcMask, 32);
  checkUint(LAYER, f('dstMask'), r.dstMask, 32);
}

export const netflowV5: Codec<NetflowV5Packet> = {
  name: LAYER,
  encodingLength: (v) => NETFLOW_V5_HEADER_BYTES + v.records.length * NETFLOW_V5_RECORD_BYTES,
  encode(v, buf, offset = 0) {
    const n = NETFLOW_V5_HEADER_BYTES + v.records.length * NETFLOW_V5_RECORD_BYTES;
    if (v.records.length < 1 || v.records.length > NETFLOW_V5_MAX_RECORDS)
      throw new EncodeError(LAYER, 'records', `${v.records.length} records, v5 carries 1..30`);
    for (const k of ['sysUptimeMs', 'unixSecs', 'unixNsecs', 'flowSequence'] as const)
      checkUint(LAYER, k, v[k], 0xffffffff);
    checkUint(LAYER, 'engineType', v.engineType, 255);
    checkUint(LAYER, 'engineId', v.engineId, 255);
    checkUint(LAYER, 'samplingInterval', v.samplingInterval, 0xffff);
    v.records.forEach(checkRecord);
    const b = targetBuffer(buf, offset, n, LAYER);
    writeU16(b, offset, 5);
    writeU16(b, offset + 2, v.records.length);
    writeU32(b, offset + 4, v.sysUptimeMs);
    writeU32(b, offset + 8, v.unixSecs);
    writeU32(b, offset + 12, v.unixNsecs);
    writeU32(b, offset + 16, v.flowSequence);
    b[offset + 20] = v.engineType;
    b[offset + 21] = v.engineId;
    writeU16(b, offset + 22, v.samplingInterval);
    for (let i = 0; i < v.records.length; i++)
      writeNetflowV5Record(b, offset + NETFLOW_V5_HEADER_BYTES + i * NETFLOW_V5_RECORD_BYTES, v.records[i]);
    return n;
  },
  decode(buf, offset = 0) {
    needBytes(buf, offset, NETFLOW_V5_HEADER_BYTES, LAYER);
    const version = readU16(buf, offset);
    if (version !== 5) throw new DecodeError(LAYER, offset, `version ${version}, expected 5`);
    const count = readU16(buf, offset + 2);
    if (count < 1 || count > NETFLOW_V5_MAX_RECORDS)
      throw new DecodeError(LAYER, offset + 2, `count ${count} is not in 1..30`);
    needBytes(
      buf,
      offset,
      NETFLOW_V5_HEADER_BYTES + count * NETFLOW_V5_RECORD_BYTES,
      LAYER,
      `${count} records`,
    );
    const records: NetflowV5Record[] = [];
    for (let i = 0; i < count; i++) {
      const o = offset + NETFLOW_V5_HEADER_BYTES + i * NETFLOW_V5_RECORD_BYTES;
      records.push({
        srcAddr: readU32(buf, o),
        dstAddr: readU32(buf, o + 4),
        nextHop: readU32(buf, o + 8),
        input: readU16(buf, o + 12),
        output: readU16(buf, o + 14),
        packets: readU32(buf, o + 16),
        octets: readU32(buf, o + 20),
        firstMs: readU32(buf, o + 24),
        lastMs: readU32(buf, o + 28),
        srcPort: readU16(buf, o + 32),
        dstPort: readU16(buf, o + 34),
        tcpFlags: buf[o + 37],
        protocol: buf[o + 38],
        tos: buf[o + 39],
        srcAs: readU16(buf, o + 40),
        dstAs: readU16(buf, o + 42),
        srcMask: buf[o + 44],
        dstMask: buf[o + 45],
      });
    }
    return {
      value: {
        sysUptimeMs: readU32(buf, offset + 4),
        unixSecs: readU32(buf, offset + 8),
        unixNsecs: readU32(buf, offset + 12),
        flowSequence: readU32(buf, offset + 16),
        engineType: buf[offset + 20],
        engineId: buf[offset + 21],
        samplingInterval: readU16(buf, offset + 22),
        records,
      },
      bytesRead: NETFLOW_V5_HEADER_BYTES + count * NETFLOW_V5_RECORD_BYTES,
    };
  },
};
