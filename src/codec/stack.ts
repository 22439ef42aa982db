/**
 * The stack: which layer follows which (explicit bindings, never import order — STYLE.md A1 caveat), and
 * the dissector that walks a captured frame into layers.
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
 *   - UDP payloads with no binding are checked for a probe (probe.ts): `probeStatus`.
 * The IPv4 total length bounds everything after it (Ethernet padding is ignored); a frame shorter than
 * the lengths it announces is a DecodeError (snaplen cuts included: capture with -s 0).
 */
import { ipv4ToString, macToString } from './address.ts';
import { readU16, readU24, readU32 } from './bytes.ts';
import { DecodeError } from './errors.ts';
import { NATT_UDP_PORT } from './esp.ts';
import { ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_VLAN } from './ethernet.ts';
import { IP_PROTO_ESP, IP_PROTO_UDP, ipv4ChecksumOk } from './ipv4.ts';
import { type ProbeStatus, probeStatus, readProbe, verifyPayload } from './probe.ts';
import { LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './sll.ts';
import { udpChecksumOk } from './udp.ts';
import { VXLAN_UDP_PORT } from './vxlan.ts';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_IPV4 = 228;
export { LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 };

/** Layer kinds as small integers (stored in a Uint8Array). `natt` is only a binding target: it resolves to esp / ike / keepalive. */
export const Layer = {
  ethernet: 1,
  vlan: 2,
  sll: 3,
  sll2: 4,
  ipv4: 5,
  udp: 6,
  vxlan: 7,
  esp: 8,
  ike: 9,
  keepalive: 10,
  probe: 11,
  payload: 12,
  natt: 13,
} as const;
export type LayerKind = (typeof Layer)[keyof typeof Layer];
export const LAYER_NAMES: readonly string[] = [
  '?',
  'ethernet',
  'vlan',
  'sll',
  'sll2',
  'ipv4',
  'udp',
  'vxlan',
  'esp',
  'ike',
  'keepalive',
  'probe',
  'payload',
  'natt',
];

/**
 * Demux tables. Lookups are array indexing (the dissector is on the analyser's hot path); 0 = unbound.
 * UDP: the destination port is looked up first, then the source port (so replies from 4500 are ESP too).
 */
export class Bindings {
  readonly linktype = new Map<number, LayerKind>();
  readonly etherType = new Uint8Array(65536);
  readonly ipProtocol = new Uint8Array(256);
  readonly udpPort = new Uint8Array(65536);

  bindLinktype(linktype: number, kind: LayerKind): this {
    this.linktype.set(linktype, kind);
    return this;
  }
  bindEtherType(etherType: number, kind: LayerKind): this {
    this.etherType[etherType] = kind;
    return this;
  }
  bindIpProtocol(protocol: number, kind: LayerKind): this {
    this.ipProtocol[protocol] = kind;
    return this;
  }
  /** e.g. `bindUdpPort(8472, Layer.vxlan)` for Linux's pre-IANA VXLAN port, 48879 for Cisco ACI. */
  bindUdpPort(port: number, kind: LayerKind): this {
    this.udpPort[port] = kind;
    return this;
  }
}

/** The bindings chainprobe's chain needs; copy with `defaultBindings()` and add to it for other ports. */
export function defaultBindings(): Bindings {
  return new Bindings()
    .bindLinktype(LINKTYPE_ETHERNET, Layer.ethernet)
    .bindLinktype(LINKTYPE_RAW, Layer.ipv4)
    .bindLinktype(LINKTYPE_IPV4, Layer.ipv4)
    .bindLinktype(LINKTYPE_LINUX_SLL, Layer.sll)
    .bindLinktype(LINKTYPE_LINUX_SLL2, Layer.sll2)
    .bindEtherType(ETHERTYPE_IPV4, Layer.ipv4)
    .bindEtherType(ETHERTYPE_VLAN, Layer.vlan)
    .bindEtherType(ETHERTYPE_QINQ, Layer.vlan)
    .bindIpProtocol(IP_PROTO_UDP, Layer.udp)
    .bindIpProtocol(IP_PROTO_ESP, Layer.esp)
    .bindUdpPort(VXLAN_UDP_PORT, Layer.vxlan)
    .bindUdpPort(NATT_UDP_PORT, Layer.natt);
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
  /** the innermost IPv4 header is a fragment (MF or offset ≠ 0) */
  fragment = false;

  reset(frame: Uint8Array, linktype: number): void {
    this.frame = frame;
    this.linktype = linktype;
    this.count = 0;
    this.stop = 'end';
    this.outerIpv4Offset =
      this.ipv4Offset =
      this.udpOffset =
      this.vxlanOffset =
      this.espOffset =
      this.probeOffset =
        -1;
    this.probeLength = 0;
    this.probeStatus = 'not-a-probe';
    this.fragment = false;
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

function push(d: Dissection, kind: LayerKind, offset: number, length: number): void {
  const i = d.count++;
  d.kind[i] = kind;
  d.offset[i] = offset;
  d.length[i] = length;
}

function need(off: number, n: number, end: number, layer: string): void {
  if (off + n > end)
    throw new DecodeError(
      layer,
      off,
      `truncated header: need ${n} bytes, ${Math.max(0, end - off)} available`,
    );
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
  d.reset(frame, linktype);
  let kind: number | undefined = bindings.linktype.get(linktype);
  if (kind === undefined) throw new DecodeError('frame', 0, `unsupported linktype ${linktype}`);
  let off = 0;
  let end = frame.length;
  for (;;) {
    if (d.count >= MAX_LAYERS - 1) {
      push(d, Layer.payload, off, end - off);
      d.stop = 'depth';
      return d;
    }
    switch (kind) {
      case Layer.ethernet: {
        need(off, 14, end, 'ethernet');
        push(d, Layer.ethernet, off, 14);
        kind = bindings.etherType[readU16(frame, off + 12)];
        off += 14;
        break;
      }
      case Layer.vlan: {
        need(off, 4, end, 'vlan');
        push(d, Layer.vlan, off, 4);
        kind = bindings.etherType[readU16(frame, off + 2)];
        off += 4;
        break;
      }
      case Layer.sll: {
        need(off, 16, end, 'sll');
        push(d, Layer.sll, off, 16);
        kind = bindings.etherType[readU16(frame, off + 14)];
        off += 16;
        break;
      }
      case Layer.sll2: {
        need(off, 20, end, 'sll2');
        push(d, Layer.sll2, off, 20);
        kind = bindings.etherType[readU16(frame, off)];
        off += 20;
        break;
      }
      case Layer.ipv4: {
        need(off, 20, end, 'ipv4');
        const vihl = frame[off];
        if (vihl >>> 4 !== 4) {
          // LINKTYPE_RAW also carries IPv6: not ours, but not malformed either.
          if (vihl >>> 4 === 6 && d.count === 0) {
            push(d, Layer.payload, off, end - off);
            d.stop = 'unbound';
            return d;
          }
          throw new DecodeError('ipv4', off, `version ${vihl >>> 4}, expected 4`);
        }
        const hdr = (vihl & 15) << 2;
        if (hdr < 20) throw new DecodeError('ipv4', off, `IHL ${vihl & 15} is below 5`);
        need(off, hdr, end, 'ipv4');
        const total = readU16(frame, off + 2);
        if (total < hdr)
          throw new DecodeError(
            'ipv4',
            off + 2,
            `total length ${total} is shorter than the ${hdr}-byte header`,
          );
        if (off + total > end)
          throw new DecodeError(
            'ipv4',
            off + 2,
            `total length ${total} exceeds the ${end - off} bytes present`,
          );
        end = off + total;
        push(d, Layer.ipv4, off, hdr);
        if (d.outerIpv4Offset < 0) d.outerIpv4Offset = off;
        d.ipv4Offset = off;
        const frag = readU16(frame, off + 6);
        d.fragment = (frag & 0x3fff) !== 0;
        kind = bindings.ipProtocol[frame[off + 9]];
        off += hdr;
        if ((frag & 0x1fff) !== 0) {
          push(d, Layer.payload, off, end - off);
          d.stop = 'fragment';
          return d;
        }
        break;
      }
      case Layer.udp: {
        need(off, 8, end, 'udp');
        const length = readU16(frame, off + 4);
        if (length < 8) throw new DecodeError('udp', off + 4, `length ${length} is below the 8-byte header`);
        push(d, Layer.udp, off, 8);
        d.udpOffset = off;
        if (d.fragment) {
          // First fragment: the rest of the datagram is in later fragments.
          push(d, Layer.payload, off + 8, end - off - 8);
          d.stop = 'fragment';
          return d;
        }
        if (off + length > end)
          throw new DecodeError(
            'udp',
            off + 4,
            `length ${length} exceeds the ${end - off} bytes of the IP payload`,
          );
        end = off + length;
        kind = bindings.udpPort[readU16(frame, off + 2)] || bindings.udpPort[readU16(frame, off)];
        off += 8;
        if (kind === 0) {
          const status = probeStatus(frame, off, end - off);
          if (status !== 'not-a-probe') {
            d.probeOffset = off;
            d.probeLength = end - off;
            d.probeStatus = status;
          }
          push(d, status === 'ok' ? Layer.probe : Layer.payload, off, end - off);
          return d;
        }
        break;
      }
      case Layer.vxlan: {
        need(off, 8, end, 'vxlan');
        push(d, Layer.vxlan, off, 8);
        if (d.vxlanOffset < 0) d.vxlanOffset = off;
        off += 8;
        kind = Layer.ethernet;
        // The inner frame ends where the outer UDP datagram ends.
        break;
      }
      case Layer.natt: {
        const n = end - off;
        if (n === 1 && frame[off] === 0xff) {
          push(d, Layer.keepalive, off, 1);
          return d;
        }
        if (n < 4)
          throw new DecodeError('esp-in-udp', off, `${n}-byte payload is neither a keepalive, IKE nor ESP`);
        if (readU32(frame, off) === 0) {
          push(d, Layer.ike, off, n);
          return d;
        }
        kind = Layer.esp;
        break;
      }
      case Layer.esp: {
        need(off, 8, end, 'esp');
        if (readU32(frame, off) === 0) throw new DecodeError('esp', off, 'SPI 0 is reserved');
        push(d, Layer.esp, off, end - off);
        d.espOffset = off;
        d.stop = 'esp';
        return d;
      }
      default: {
        // 0 (unbound) or a kind that cannot follow here.
        if (end > off) push(d, Layer.payload, off, end - off);
        d.stop = end > off ? 'unbound' : 'end';
        return d;
      }
    }
  }
}

const SLL_PACKET_TYPES = ['In', 'B', 'M', 'P', 'Out'];
const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}`;

function describeLayer(d: Dissection, i: number): string {
  const f = d.frame;
  const o = d.offset[i];
  const n = d.length[i];
  switch (d.kind[i]) {
    case Layer.ethernet:
      return `Ethernet ${macToString(readU16(f, o + 6) * 0x100000000 + readU32(f, o + 8))} > ${macToString(readU16(f, o) * 0x100000000 + readU32(f, o + 2))}, ethertype ${hex(readU16(f, o + 12), 4)}`;
    case Layer.vlan: {
      const tci = readU16(f, o);
      return `802.1Q vlan ${tci & 0xfff}, p ${tci >>> 13}${tci & 0x1000 ? ', DEI' : ''}, ethertype ${hex(readU16(f, o + 2), 4)}`;
    }
    case Layer.sll:
      return `SLL ${SLL_PACKET_TYPES[readU16(f, o)] ?? readU16(f, o)}, ARPHRD ${readU16(f, o + 2)}, ethertype ${hex(readU16(f, o + 14), 4)}`;
    case Layer.sll2:
      return `SLL2 ${SLL_PACKET_TYPES[f[o + 10]] ?? f[o + 10]}, ifindex ${readU32(f, o + 4)}, ethertype ${hex(readU16(f, o), 4)}`;
    case Layer.ipv4: {
      const frag = readU16(f, o + 6);
      const proto = f[o + 9];
      const flags = [
        frag & 0x4000 ? 'DF' : '',
        frag & 0x2000 ? 'MF' : '',
        frag & 0x1fff ? `frag offset ${(frag & 0x1fff) << 3}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      const name = proto === 17 ? 'UDP' : proto === 50 ? 'ESP' : `proto ${proto}`;
      const ck = ipv4ChecksumOk(f, o) ? 'cksum ok' : `bad cksum ${hex(readU16(f, o + 10), 4)}`;
      return `IPv4 ${ipv4ToString(readU32(f, o + 12))} > ${ipv4ToString(readU32(f, o + 16))}: ${name}, id ${readU16(f, o + 4)}, ttl ${f[o + 8]}, length ${readU16(f, o + 2)}${flags ? `, ${flags}` : ''}, ${ck}`;
    }
    case Layer.udp: {
      const ipOff = d.offset[i - 1];
      const c = readU16(f, o + 6);
      let ck = 'no cksum';
      if (c !== 0)
        ck = d.fragment
          ? `cksum ${hex(c, 4)} (fragment)`
          : udpChecksumOk(f, ipOff, o)
            ? 'cksum ok'
            : `bad cksum ${hex(c, 4)}`;
      return `UDP ${readU16(f, o)} > ${readU16(f, o + 2)}, length ${readU16(f, o + 4)}, ${ck}`;
    }
    case Layer.vxlan:
      return `VXLAN flags ${hex(f[o], 2)}${f[o] & 0x08 ? ' [I]' : ' [no I flag]'}, vni ${readU24(f, o + 4)}`;
    case Layer.esp:
      return `ESP spi ${hex(readU32(f, o), 8)}, seq ${readU32(f, o + 4)}, ${n} bytes (opaque)`;
    case Layer.ike:
      return `IKE (non-ESP marker), ${n - 4} bytes`;
    case Layer.keepalive:
      return 'NAT-keepalive';
    case Layer.probe: {
      const p = readProbe(f, o);
      const check = verifyPayload(f, o, n);
      return `Probe run ${p.runId}, flow ${p.flowId}, seq ${p.seq}, tx ${p.txTimeNs} ns, ${n} bytes, ${check.ok ? 'padding ok' : check.reason}`;
    }
    default: {
      const why =
        d.probeOffset === o
          ? `probe ${d.probeStatus}`
          : d.stop === 'fragment' && i === d.count - 1
            ? 'fragment'
            : 'opaque';
      return `Payload ${n} bytes (${why})`;
    }
  }
}

/** One line per layer, tcpdump-like, for reports and failure messages. */
export function describe(d: Dissection): string[] {
  const lines: string[] = [];
  for (let i = 0; i < d.count; i++) lines.push(describeLayer(d, i));
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
