/**
 * The stack: the registry of protocol layers (each codec file declares a LayerSpec — fields, bindings,
 * dissect step, describe — see layer.ts), which layer follows which (explicit bindings, never import order —
 * STYLE.md A1 caveat), and the dissector that walks a captured frame into layers.
 * Adding a protocol: one file exporting its LayerSpec, plus one line in LAYERS below.
 *
 *   const d = new Dissection();                 // reuse one per reader: dissect() allocates nothing
 *   dissect(frame, LINKTYPE_ETHERNET, d);        // throws DecodeError on truncated / malformed input
 *   if (d.probeStatus === 'ok') readProbe(frame, d.probeOffset) ...
 *   describe(d)  → ['Ethernet …', 'IPv4 …', 'UDP …', 'VXLAN …', …]   // one line per layer, for humans
 *   summarize(frame, linktype) → the same joined, never throws (a DecodeError becomes the last line)
 *
 * A Dissection is a flat record of offsets into the original frame: per layer `kind`, `offset`,
 * `length` (header bytes; for opaque layers — payload, esp, ike — the bytes up to the end of the
 * enclosing datagram), plus shortcuts to the layers the analyser reads. Field values are read from the
 * frame with the codecs (`ipv4.decode(frame, d.ipv4Offset)`) or bytes.ts readers.
 *
 * Where the walk stops:
 *   - ESP (proto 50, or ESP-in-UDP on 4500): the ESP header, then opaque ciphertext (stop = 'esp');
 *   - an IPv4 fragment: a non-first fragment is opaque after the IP header; a first fragment shows its
 *     UDP header and then opaque bytes (stop = 'fragment') — the analyser reassembles, then dissects again
 *     with linktype 228 (raw IPv4);
 *   - an ethertype / protocol / port without binding: opaque payload (stop = 'unbound');
 *   - UDP payloads with no binding are offered to the heuristic layers (the probe, probe-layer.ts):
 *     `probeStatus`; `appOffset`/`appLength` always give the innermost UDP payload (identification reads it).
 * The IPv4 total length bounds everything after it (Ethernet padding is ignored); a frame shorter than
 * the lengths it announces is a DecodeError (snaplen cuts included: capture with -s 0).
 */
import { DecodeError } from './errors.ts';
import { espLayer, ikeLayer, keepaliveLayer, nattLayer } from './esp.ts';
import { ethernetLayer, vlanLayer } from './ethernet.ts';
import { cflowLayer } from './flow/cflow-layer.ts';
import { sflowLayer } from './flow/sflow-layer.ts';
import { ipv4Layer } from './ipv4.ts';
import { type BindingTable, type LayerSpec, NEXT_END } from './layer.ts';
import type { ProbeStatus } from './probe.ts';
import { probeLayer } from './probe-layer.ts';
import { LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, sll2Layer, sllLayer } from './sll.ts';
import { udpLayer } from './udp.ts';
import { vxlanLayer } from './vxlan.ts';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_IPV4 = 228;
export { LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 };

/** Opaque bytes: an unbound port/protocol, a fragment's remainder, a UDP payload that is nothing we know. */
const payloadLayer: LayerSpec = {
  name: 'payload',
  dissect(d) {
    d.push(d.ids.payload, d.cursor, d.end - d.cursor);
    return NEXT_END;
  },
  describe(d, i) {
    const o = d.offset[i];
    const why =
      d.probeOffset === o
        ? `probe ${d.probeStatus}`
        : d.stop === 'fragment' && i === d.count - 1
          ? 'fragment'
          : 'opaque';
    return `Payload ${d.length[i]} bytes (${why})`;
  },
};

/**
 * THE registry: every protocol layer chainprobe knows, by name. Ids are positions (1-based) in this list,
 * stable for a build; the dissector, describe, BPF generation and the analyser all read it.
 */
const LAYERS = {
  ethernet: ethernetLayer,
  vlan: vlanLayer,
  sll: sllLayer,
  sll2: sll2Layer,
  ipv4: ipv4Layer,
  udp: udpLayer,
  vxlan: vxlanLayer,
  esp: espLayer,
  ike: ikeLayer,
  keepalive: keepaliveLayer,
  probe: probeLayer,
  payload: payloadLayer,
  natt: nattLayer,
  cflow: cflowLayer,
  sflow: sflowLayer,
} as const;

export type LayerName = keyof typeof LAYERS;
const SPECS: readonly LayerSpec[] = Object.values(LAYERS);
for (const [name, spec] of Object.entries(LAYERS))
  if (spec.name !== name) throw new Error(`layer registry: ${name} declares name ${spec.name}`);

/** Layer ids by name (small integers, stored in a Uint8Array). */
export const Layer = Object.fromEntries(SPECS.map((s, i) => [s.name, i + 1])) as {
  readonly [K in LayerName]: number;
};
export type LayerKind = number;
/** Layer names by id ('?' at 0). */
export const LAYER_NAMES: readonly string[] = ['?', ...SPECS.map((s) => s.name)];

/** The LayerSpec registered under `name` (fields, bindings) — for BPF generation and transforms. */
export function layerSpec(name: LayerName): LayerSpec {
  return LAYERS[name];
}

/**
 * Demux tables. Lookups are array indexing (the dissector is on the analyser's hot path); 0 = unbound.
 * UDP: the destination port is looked up first, then the source port (so replies from 4500 are ESP too).
 */
export class Bindings {
  readonly linktype = new Map<number, LayerKind>();
  readonly etherType = new Uint8Array(65536);
  readonly ipProtocol = new Uint8Array(256);
  readonly udpPort = new Uint8Array(65536);
  /** layers tried in order on UDP payloads whose ports are unbound */
  readonly udpHeuristics: LayerKind[] = [];

  bind(table: BindingTable, value: number, kind: LayerKind): this {
    if (table === 'linktype') this.linktype.set(value, kind);
    else if (table === 'udpHeuristic') this.udpHeuristics.push(kind);
    else this[table][value] = kind;
    return this;
  }
  /** e.g. `bindUdpPort(8472, Layer.vxlan)` for Linux's pre-IANA VXLAN port, 9995 for NetFlow (Layer.cflow). */
  bindUdpPort(port: number, kind: LayerKind): this {
    return this.bind('udpPort', port, kind);
  }
  /** The heuristic layer that claims the UDP payload at [off, end), or 0. */
  heuristic(frame: Uint8Array, off: number, end: number): LayerKind {
    for (const k of this.udpHeuristics) if (SPECS[k - 1].matches?.(frame, off, end)) return k;
    return 0;
  }
}

/** Every binding the registered layers declare; copy with `defaultBindings()` and add to it for other ports. */
export function defaultBindings(): Bindings {
  const b = new Bindings();
  SPECS.forEach((spec, i) => {
    for (const { table, value } of spec.bindings ?? []) b.bind(table, value, i + 1);
  });
  return b;
}

const DEFAULT_BINDINGS = defaultBindings();

export const MAX_LAYERS = 24;
export type StopReason = 'end' | 'esp' | 'fragment' | 'unbound' | 'depth';

export class Dissection {
  frame: Uint8Array = new Uint8Array(0);
  linktype = 0;
  count = 0;
  readonly kind = new Uint8Array(MAX_LAYERS);
  readonly offset = new Int32Array(MAX_LAYERS);
  readonly length = new Int32Array(MAX_LAYERS);
  stop: StopReason = 'end';
  /** byte offsets into `frame`, -1 when absent */
  outerIpv4Offset = -1;
  /** the innermost IPv4 header (== outerIpv4Offset without encapsulation) */
  ipv4Offset = -1;
  /** the innermost UDP header */
  udpOffset = -1;
  /** the first VXLAN header */
  vxlanOffset = -1;
  espOffset = -1;
  /** start of the UDP payload that carries (or looked like) a probe */
  probeOffset = -1;
  /** UDP payload bytes at probeOffset */
  probeLength = 0;
  probeStatus: ProbeStatus = 'not-a-probe';
  /** the innermost complete UDP payload (not for a first fragment), whatever it carries; -1 when none */
  appOffset = -1;
  appLength = 0;
  /** the innermost IPv4 header is a fragment (MF or offset ≠ 0) */
  fragment = false;

  // Walk state, used by the LayerSpecs while dissecting.
  /** where the next header starts */
  cursor = 0;
  /** end of the enclosing datagram (IPv4 total length, UDP length) */
  end = 0;
  bindings: Bindings = DEFAULT_BINDINGS;
  readonly ids = Layer;

  reset(frame: Uint8Array, linktype: number, bindings: Bindings = DEFAULT_BINDINGS): void {
    this.frame = frame;
    this.linktype = linktype;
    this.bindings = bindings;
    this.count = 0;
    this.cursor = 0;
    this.end = frame.length;
    this.stop = 'end';
    this.outerIpv4Offset =
      this.ipv4Offset =
      this.udpOffset =
      this.vxlanOffset =
      this.espOffset =
      this.probeOffset =
      this.appOffset =
        -1;
    this.probeLength = 0;
    this.appLength = 0;
    this.probeStatus = 'not-a-probe';
    this.fragment = false;
  }

  /** Records a layer. */
  push(kind: LayerKind, offset: number, length: number): void {
    const i = this.count++;
    this.kind[i] = kind;
    this.offset[i] = offset;
    this.length[i] = length;
  }

  /** Checks that `n` header bytes of `layer` are present at the cursor, consumes them, returns their offset. */
  take(n: number, layer: string): number {
    const off = this.cursor;
    if (off + n > this.end)
      throw new DecodeError(
        layer,
        off,
        `truncated header: need ${n} bytes, ${Math.max(0, this.end - off)} available`,
      );
    this.cursor = off + n;
    return off;
  }

  /** Index of the first layer of `kind` at or after `from`, or -1. */
  indexOf(kind: LayerKind, from = 0): number {
    for (let i = from; i < this.count; i++) if (this.kind[i] === kind) return i;
    return -1;
  }

  /** Layer names in order, e.g. ['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'udp', 'probe']. */
  names(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(LAYER_NAMES[this.kind[i]]);
    return out;
  }
}

/**
 * Walks `frame` (captured with the given pcap linktype) into `into` (reused; a new Dissection if omitted).
 * Throws DecodeError for truncated or malformed input; never anything else.
 */
export function dissect(
  frame: Uint8Array,
  linktype: number,
  into: Dissection = new Dissection(),
  bindings: Bindings = DEFAULT_BINDINGS,
): Dissection {
  const d = into;
  d.reset(frame, linktype, bindings);
  let kind: number | undefined = bindings.linktype.get(linktype);
  if (kind === undefined) throw new DecodeError('frame', 0, `unsupported linktype ${linktype}`);
  while (kind !== NEXT_END) {
    if (d.count >= MAX_LAYERS - 1) {
      d.push(Layer.payload, d.cursor, d.end - d.cursor);
      d.stop = 'depth';
      return d;
    }
    if (kind === 0) {
      // Unbound (or a kind that cannot follow here): the rest is opaque.
      if (d.end > d.cursor) d.push(Layer.payload, d.cursor, d.end - d.cursor);
      if (d.stop === 'end') d.stop = d.end > d.cursor ? 'unbound' : 'end';
      return d;
    }
    kind = SPECS[kind - 1].dissect(d);
  }
  return d;
}

/** One line per layer, tcpdump-like, for reports and failure messages. */
export function describe(d: Dissection): string[] {
  const lines: string[] = [];
  for (let i = 0; i < d.count; i++) lines.push(SPECS[d.kind[i] - 1]?.describe(d, i) ?? `layer ${d.kind[i]}`);
  return lines;
}

/** Dissects and describes; never throws: a decode failure becomes the last line. */
export function summarize(
  frame: Uint8Array,
  linktype: number,
  bindings: Bindings = DEFAULT_BINDINGS,
): string {
  const d = new Dissection();
  try {
    dissect(frame, linktype, d, bindings);
    return describe(d).join('\n');
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return [...describe(d), `!! ${e.message}`].join('\n');
  }
}
