/**
 * sFlow v5 agent: each datagram carries `recordsPerDatagram` flow samples (a raw packet header record with
 * a real sampled header, sampling rate 1 in 1000) and, every 10th datagram, a counter sample (generic
 * interface counters). Datagram sequence counts datagrams of this agent; flow and counter samples have
 * their own per-source sequence numbers; the sample pool grows by the sampling rate per sample.
 */
import { writeU32 } from '../codec/bytes.ts';
import {
  SFLOW_HEADER_BYTES,
  SFLOW_HEADER_PROTOCOL_ETHERNET,
  type SflowCounterSample,
  type SflowFlowSample,
  sflow,
} from '../codec/flow/sflow.ts';
import { SFLOW_UDP_PORT } from '../codec/flow/sflow-layer.ts';
import { BOOT_AGO_MS, type ExporterOptions, type FlowExporter, type PayloadKind } from './exporter.ts';
import { flowPool, RecordRing } from './flow-pool.ts';
import { sampledPacket } from './sampled-packet.ts';

const SAMPLING_RATE = 1000;
const COUNTERS_EVERY = 10;
const IF_INDEX = 1;
// Offsets inside an encoded sample (format, length, then the sample's own fields).
const SAMPLE_SEQ_AT = 8;
const FLOW_SAMPLE_POOL_AT = 20;
const COUNTER_IN_OCTETS_AT = 8 + 12 + 8 + 24; // sample head, record head, then ifInOctets

function encodeSamples(samples: (SflowFlowSample | SflowCounterSample)[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of samples) {
    const one = { agent: 0, subAgentId: 0, sequence: 0, uptimeMs: 0, samples: [s] };
    const b = new Uint8Array(sflow.encodingLength(one));
    sflow.encode(one, b, 0);
    out.push(b.slice(SFLOW_HEADER_BYTES));
  }
  return out;
}

export function createSflowExporter(o: ExporterOptions): FlowExporter {
  const perDatagram = o.recordsPerDatagram ?? 4;
  const flows = flowPool(0x5f000 + o.index, 64);
  const flowSamples = encodeSamples(
    flows.map((f) => {
      const p = sampledPacket(f, 128);
      return {
        kind: 'flow' as const,
        sequence: 0,
        sourceId: IF_INDEX,
        samplingRate: SAMPLING_RATE,
        samplePool: 0,
        drops: 0,
        input: f.input,
        output: f.output,
        records: [
          {
            kind: 'raw-header' as const,
            protocol: SFLOW_HEADER_PROTOCOL_ETHERNET,
            frameLength: p.frameLength,
            stripped: 4,
            header: p.header,
          },
        ],
      };
    }),
  );
  const [counterSample] = encodeSamples([
    {
      kind: 'counter',
      sequence: 0,
      sourceId: IF_INDEX,
      records: [
        {
          kind: 'generic-interface',
          ifIndex: IF_INDEX,
          ifType: 6,
          ifSpeed: 10_000_000_000n,
          ifDirection: 1,
          ifStatus: 3,
          ifInOctets: 0n,
          ifInUcastPkts: 0,
          ifInMulticastPkts: 0,
          ifInBroadcastPkts: 0,
          ifInDiscards: 0,
          ifInErrors: 0,
          ifInUnknownProtos: 0,
          ifOutOctets: 0n,
          ifOutUcastPkts: 0,
          ifOutMulticastPkts: 0,
          ifOutBroadcastPkts: 0,
          ifOutDiscards: 0,
          ifOutErrors: 0,
          ifPromiscuousMode: 0,
        },
      ],
    },
  ]);
  const ring = new RecordRing(flowSamples, perDatagram);
  const identity = o.srcIp; // the agent address: the exporter's own IPv4 address
  const subAgentId = o.index;
  let sequence = 0;
  let flowSeq = 0;
  let counterSeq = 0;
  let pool = 0;
  let inOctets = 0;
  let next = 0;
  let bootMs = -1;
  return {
    kind: 'sflow',
    srcIp: o.srcIp,
    identity,
    maxPayloadBytes: SFLOW_HEADER_BYTES + ring.maxChunkBytes + counterSample.length,
    write(buf, offset, nowMs) {
      if (bootMs < 0) bootMs = nowMs - BOOT_AGO_MS;
      const withCounters = sequence % COUNTERS_EVERY === 0;
      writeU32(buf, offset, 5);
      writeU32(buf, offset + 4, 1);
      writeU32(buf, offset + 8, identity);
      writeU32(buf, offset + 12, subAgentId);
      writeU32(buf, offset + 16, sequence);
      writeU32(buf, offset + 20, (nowMs - bootMs) >>> 0);
      writeU32(buf, offset + 24, perDatagram + (withCounters ? 1 : 0));
      const first = offset + SFLOW_HEADER_BYTES;
      const chunk = ring.chunk(next);
      buf.set(chunk, first);
      for (let i = 0; i < perDatagram; i++) {
        const at = first + ring.offsetIn(next, i);
        flowSeq = (flowSeq + 1) >>> 0;
        pool = (pool + SAMPLING_RATE) >>> 0;
        inOctets += SAMPLING_RATE * 700;
        writeU32(buf, at + SAMPLE_SEQ_AT, flowSeq);
        writeU32(buf, at + FLOW_SAMPLE_POOL_AT, pool);
      }
      next = (next + perDatagram) % flowSamples.length;
      let p = first + chunk.length;
      if (withCounters) {
        buf.set(counterSample, p);
        counterSeq = (counterSeq + 1) >>> 0;
        writeU32(buf, p + SAMPLE_SEQ_AT, counterSeq);
        writeU32(buf, p + COUNTER_IN_OCTETS_AT, Math.floor(inOctets / 4294967296) >>> 0);
        writeU32(buf, p + COUNTER_IN_OCTETS_AT + 4, inOctets >>> 0);
        p += counterSample.length;
      }
      sequence = (sequence + 1) >>> 0;
      return p - offset;
    },
  };
}

export const sflowKind: PayloadKind = {
  name: 'sflow',
  defaultPort: SFLOW_UDP_PORT,
  createExporter: createSflowExporter,
};
