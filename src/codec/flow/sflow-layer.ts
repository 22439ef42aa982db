/** sFlow v5 as a dissector layer: the datagram header (IPv4 agent); the layer covers the UDP payload. */
import { ipv4ToString } from '../address.ts';
import { readU32 } from '../bytes.ts';
import { type LayerSpec, NEXT_END } from '../layer.ts';

export const SFLOW_UDP_PORT = 6343;

export const sflowLayer: LayerSpec = {
  name: 'sflow',
  fields: {
    version: { offset: 0, bytes: 4 },
    agentAddressType: { offset: 4, bytes: 4 },
    agent: { offset: 8, bytes: 4 },
    subAgentId: { offset: 12, bytes: 4 },
    sequence: { offset: 16, bytes: 4 },
  },
  bindings: [{ table: 'udpPort', value: SFLOW_UDP_PORT }],
  dissect(d) {
    const off = d.cursor;
    if (d.end - off < 4 || readU32(d.frame, off) !== 5)
      return d.bindings.heuristic(d.frame, off, d.end) || d.ids.payload; // not sFlow: a probe, or opaque
    d.take(28, 'sflow');
    if (readU32(d.frame, off + 4) !== 1) {
      d.cursor = off; // IPv6 agents: not decoded here, opaque
      return d.ids.payload;
    }
    d.push(d.ids.sflow, off, d.end - off);
    return NEXT_END;
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    return `sFlow v5 agent ${ipv4ToString(readU32(f, o + 8))}/${readU32(f, o + 12)}, seq ${readU32(f, o + 16)}, ${readU32(f, o + 24)} samples`;
  },
};
