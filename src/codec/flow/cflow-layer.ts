/**
 * NetFlow v5 / v9 and IPFIX ("cflow", as Wireshark calls the family) as a dissector layer: the version
 * word picks the format; the layer covers the whole UDP payload (stop = 'end').
 */
import { readU16, readU32 } from '../bytes.ts';
import { DecodeError } from '../errors.ts';
import { type LayerSpec, NEXT_END } from '../layer.ts';

export const NETFLOW_UDP_PORT = 2055;
export const IPFIX_UDP_PORT = 4739;

export const cflowLayer: LayerSpec = {
  name: 'cflow',
  fields: {
    version: { offset: 0, bytes: 2 },
    // v5: flow_sequence at 16; v9: sequence at 12, source id at 16; IPFIX: sequence at 8, domain at 12
  },
  bindings: [
    { table: 'udpPort', value: NETFLOW_UDP_PORT },
    { table: 'udpPort', value: IPFIX_UDP_PORT },
  ],
  dissect(d) {
    const off = d.cursor;
    const version = d.end - off >= 2 ? readU16(d.frame, off) : 0;
    const need = version === 5 ? 24 : version === 9 ? 20 : version === 10 ? 16 : -1;
    // Not NetFlow on a NetFlow port (probes use 2055 too): offer it to the heuristics, else opaque.
    if (need < 0) return d.bindings.heuristic(d.frame, off, d.end) || d.ids.payload;
    d.take(need, `netflow-v${version}`);
    if (version === 10 && readU16(d.frame, off + 2) !== d.end - off)
      throw new DecodeError(
        'ipfix',
        off + 2,
        `length ${readU16(d.frame, off + 2)} ≠ ${d.end - off} UDP payload bytes`,
      );
    d.push(d.ids.cflow, off, d.end - off);
    return NEXT_END;
  },
  describe(d, i) {
    const f = d.frame;
    const o = d.offset[i];
    const v = readU16(f, o);
    if (v === 5)
      return `NetFlow v5, ${readU16(f, o + 2)} flows, seq ${readU32(f, o + 16)}, engine ${f[o + 20]}/${f[o + 21]}`;
    if (v === 9)
      return `NetFlow v9, ${readU16(f, o + 2)} records, seq ${readU32(f, o + 12)}, source id ${readU32(f, o + 16)}`;
    return `IPFIX, ${readU16(f, o + 2)} bytes, seq ${readU32(f, o + 8)}, domain ${readU32(f, o + 12)}`;
  },
};
