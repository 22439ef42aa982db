/**
 * The protocol layer contract: what each codec file declares so that the dissector, `describe`, BPF
 * filter generation (capture/filter.ts) and the transforms all read one description of the protocol.
 *
 *   export const fooLayer: LayerSpec = {
 *     name: 'foo',
 *     fields: { seq: { offset: 4, bytes: 4 }, length: { offset: 2, bytes: 2, derived: 'length' } },
 *     bindings: [{ table: 'udpPort', value: 9999 }],      // how a packet reaches this layer
 *     dissect(d) { const off = d.take(8, 'foo'); d.push(d.ids.foo, off, 8); return NEXT_END; },
 *     describe(d, i) { return `Foo seq ${readU32(d.frame, d.offset[i] + 4)}`; },
 *   };
 *
 * and is listed once in stack.ts's LAYERS. The dissector's hot path is array indexing over small integer
 * ids; nothing here allocates per packet.
 */
import type { Dissection } from './stack.ts';

/** Demux tables a layer can be bound through. `udpHeuristic`: tried in order for UDP ports with no binding. */
export type BindingTable = 'linktype' | 'etherType' | 'ipProtocol' | 'udpPort' | 'udpHeuristic';

export interface Binding {
  table: BindingTable;
  /** the linktype, ethertype, IP protocol or UDP port (ignored for udpHeuristic) */
  value: number;
}

/**
 * A header field, relative to the start of its layer. `derived` fields are computed from the rest of the
 * packet (lengths, checksums) by whoever builds or rewrites it; BPF filters and transforms read offsets here.
 */
export interface FieldSpec {
  offset: number;
  bytes: number;
  derived?: 'length' | 'checksum';
}

/** Returned by `dissect` instead of a layer id: the walk is complete (the layer covered the rest). */
export const NEXT_END = -1;
/** Returned by `dissect`: whatever follows is unbound (opaque payload up to `d.end`). */
export const NEXT_OPAQUE = 0;

/** Layer ids by name, as assigned by the registry (stack.ts). */
export type LayerIds = Readonly<Record<string, number>>;

export interface LayerSpec {
  readonly name: string;
  readonly fields?: Readonly<Record<string, FieldSpec>>;
  readonly bindings?: readonly Binding[];
  /** For `udpHeuristic` layers: does the UDP payload at [off, end) look like this protocol? */
  readonly matches?: (frame: Uint8Array, off: number, end: number) => boolean;
  /**
   * Walks this layer's header at `d.cursor` (bounded by `d.end`): `d.take(n, name)` checks and consumes n
   * header bytes, `d.push(d.ids.<name>, off, len)` records the layer; narrow `d.end` when the header carries
   * a length. Returns the next layer's id (from `d.bindings` tables or `d.ids`), NEXT_OPAQUE or NEXT_END.
   * Throws DecodeError for malformed input.
   */
  dissect(d: Dissection): number;
  /** One human line for layer `i` of the dissection (tcpdump-like). */
  describe(d: Dissection, i: number): string;
}
