/**
 * NetFlow v5 exporter: records copied from a pre-encoded pool, first/last switched patched relative to the
 * packet's sysUptime; flowSequence counts flows exported before the packet; engine id = exporter identity.
 */
import { writeU16, writeU32 } from '../codec/bytes.ts';
import { NETFLOW_UDP_PORT } from '../codec/flow/cflow-layer.ts';
import {
  NETFLOW_V5_HEADER_BYTES,
  NETFLOW_V5_MAX_RECORDS,
  NETFLOW_V5_RECORD_BYTES,
  writeNetflowV5Record,
} from '../codec/flow/netflow-v5.ts';
import { BOOT_AGO_MS, type ExporterOptions, type FlowExporter, type PayloadKind } from './exporter.ts';
import { flowPool, RecordRing } from './flow-pool.ts';

const POOL = 64;

export function createNetflowV5Exporter(o: ExporterOptions): FlowExporter {
  const perPacket = Math.min(NETFLOW_V5_MAX_RECORDS, o.recordsPerDatagram ?? 10);
  const flows = flowPool(0x5000 + o.index, POOL);
  const records = flows.map((f) => {
    const r = new Uint8Array(NETFLOW_V5_RECORD_BYTES);
    writeNetflowV5Record(r, 0, {
      srcAddr: f.src,
      dstAddr: f.dst,
      nextHop: 0,
      input: f.input,
      output: f.output,
      packets: f.packets,
      octets: f.octets,
      firstMs: 0,
      lastMs: 0,
      srcPort: f.srcPort,
      dstPort: f.dstPort,
      tcpFlags: f.tcpFlags,
      protocol: f.protocol,
      tos: f.tos,
      srcAs: 0,
      dstAs: 0,
      srcMask: 24,
      dstMask: 24,
    });
    return r;
  });
  const ring = new RecordRing(records, perPacket);
  const identity = o.index & 0xff;
  let flowSequence = 0;
  let next = 0;
  let bootMs = -1;
  return {
    kind: 'netflow-v5',
    srcIp: o.srcIp,
    identity,
    maxPayloadBytes: NETFLOW_V5_HEADER_BYTES + perPacket * NETFLOW_V5_RECORD_BYTES,
    write(buf, offset, nowMs) {
      if (bootMs < 0) bootMs = nowMs - BOOT_AGO_MS;
      const uptime = (nowMs - bootMs) >>> 0;
      writeU16(buf, offset, 5);
      writeU16(buf, offset + 2, perPacket);
      writeU32(buf, offset + 4, uptime);
      writeU32(buf, offset + 8, Math.floor(nowMs / 1000));
      writeU32(buf, offset + 12, (nowMs % 1000) * 1_000_000);
      writeU32(buf, offset + 16, flowSequence);
      buf[offset + 20] = 0; // engine type: RP
      buf[offset + 21] = identity;
      writeU16(buf, offset + 22, 0);
      let p = offset + NETFLOW_V5_HEADER_BYTES;
      buf.set(ring.chunk(next), p);
      for (let i = 0, k = next; i < perPacket; i++, k = k + 1 === POOL ? 0 : k + 1) {
        const f = flows[k];
        const last = uptime - f.endAgoMs;
        writeU32(buf, p + 24, Math.max(0, last - f.durationMs));
        writeU32(buf, p + 28, Math.max(0, last));
        p += NETFLOW_V5_RECORD_BYTES;
      }
      next = (next + perPacket) % POOL;
      flowSequence = (flowSequence + perPacket) >>> 0;
      return p - offset;
    },
  };
}

export const netflowV5Kind: PayloadKind = {
  name: 'netflow-v5',
  defaultPort: NETFLOW_UDP_PORT,
  createExporter: createNetflowV5Exporter,
};
