/**
 * Identifiers: how the analyser recognises one datagram at every capture point, after inner reassembly
 * (VXLAN decapsulated, ESP decrypted, fragments joined), without relying on anything a hop may rewrite.
 * A registry, tried in order; the first that claims the dissection gives its key:
 *
 *   probe        the probe header: stream = flow id, seq = probe seq
 *   flow-export  the protocol's own identity: exporter (inner source address) + v5 engine / v9 source id /
 *                IPFIX observation domain / sFlow agent + sub-agent, and its sequence number — plus the
 *                payload length, so an IPFIX template-only message never pairs with the data message
 *                that shares its sequence number
 *   fingerprint  any other UDP: a 53-bit hash of the UDP payload (NAT, ESP and fragmentation never change
 *                it); identical payloads share one key, so they count as duplicates, never as two datagrams
 *
 * Keys are two numbers (stream, seq) so the journey tracker's maps stay on small-integer keys. Streams of
 * the probe are its flow ids (< 2^32); other streams are interned above 2^32, so they never meet.
 */
import { readU16, readU32 } from '../../codec/bytes.ts';
import type { Dissection } from '../../codec/stack.ts';

export interface DatagramKey {
  stream: number;
  seq: number;
  /** which identifier produced it */
  identifier: string;
}

export interface Identifier {
  readonly name: string;
  /** Fills `out` and returns true when this identifier recognises the datagram. Allocation-free. */
  identify(d: Dissection, streams: StreamTable, out: DatagramKey): boolean;
}

/** Streams other than probe flows, interned to numbers ≥ 2^32: (exporter address, scope) → id. */
export class StreamTable {
  private readonly byAddress = new Map<number, Map<number, number>>();
  private next = 2 ** 32;
  readonly names = new Map<number, string>();

  /**
   * `scope` < 2^48 (a 32-bit id times a small protocol tag fits). `describe` names a new stream; it is
   * given the key rather than closing over it, so a lookup allocates nothing.
   */
  intern(address: number, scope: number, describe: (address: number, scope: number) => string): number {
    let m = this.byAddress.get(address);
    if (!m) {
      m = new Map();
      this.byAddress.set(address, m);
    }
    let id = m.get(scope);
    if (id === undefined) {
      id = this.next++;
      m.set(scope, id);
      this.names.set(id, describe(address, scope));
    }
    return id;
  }
}

const probeIdentifier: Identifier = {
  name: 'probe',
  identify(d, _streams, out) {
    if (d.probeStatus !== 'ok') return false;
    out.stream = readU32(d.frame, d.probeOffset + 12);
    out.seq = readU32(d.frame, d.probeOffset + 16);
    return true;
  },
};

// Protocol tags inside a stream scope (scope = id * 8 + tag).
const TAG = { v5: 1, v9: 2, ipfix: 3, sflow: 4, fingerprint: 5 } as const;

/**
 * Which flow-export protocol the UDP payload at [o, o + n) is, checked strictly from its own header (not
 * from the port: NAT may move it to a port the dissector does not bind): 5, 9, 10 (IPFIX), 6343 (sFlow) or 0.
 */
export function flowExportProtocol(f: Uint8Array, o: number, n: number): number {
  if (n < 16) return 0;
  const version = readU16(f, o);
  if (version === 5) return n >= 24 && n === 24 + 48 * readU16(f, o + 2) && readU16(f, o + 2) > 0 ? 5 : 0;
  if (version === 10) return readU16(f, o + 2) === n ? 10 : 0;
  if (version === 9) {
    if (n < 20) return 0;
    // FlowSets must tile the packet exactly (padding aside)
    let p = o + 20;
    const end = o + n;
    while (p + 4 <= end) {
      const len = readU16(f, p + 2);
      if (len < 4 || p + len > end) return 0;
      p += len;
    }
    return end - p < 4 ? 9 : 0;
  }
  if (version === 0 && readU32(f, o) === 5 && n >= 28 && readU32(f, o + 4) === 1) return 6343;
  return 0;
}

const flowExportIdentifier: Identifier = {
  name: 'flow-export',
  identify(d, streams, out) {
    if (d.appOffset < 0 || d.ipv4Offset < 0) return false;
    const f = d.frame;
    const o = d.appOffset;
    const protocol = flowExportProtocol(f, o, d.appLength);
    if (protocol === 0) return false;
    const src = readU32(f, d.ipv4Offset + 12);
    let scope: number;
    let seq: number;
    if (protocol === 6343) {
      // agent address and sub-agent: the agent's identity is in the datagram itself
      scope = (readU32(f, o + 8) * 65536 + (readU32(f, o + 12) & 0xffff)) * 8 + TAG.sflow;
      seq = readU32(f, o + 16);
    } else if (protocol === 5) {
      scope = (f[o + 20] * 256 + f[o + 21]) * 8 + TAG.v5;
      seq = readU32(f, o + 16);
    } else if (protocol === 9) {
      scope = readU32(f, o + 16) * 8 + TAG.v9;
      seq = readU32(f, o + 12);
    } else {
      scope = readU32(f, o + 12) * 8 + TAG.ipfix;
      seq = readU32(f, o + 8);
    }
    out.stream = streams.intern(src, scope, describeStream);
    out.seq = seq * 65536 + d.appLength;
    return true;
  },
};

function describeStream(src: number, scope: number): string {
  const tag = scope % 8;
  const id = Math.floor(scope / 8);
  const ip = `${src >>> 24}.${(src >>> 16) & 255}.${(src >>> 8) & 255}.${src & 255}`;
  const names = ['?', 'netflow-v5 engine', 'netflow-v9 source', 'ipfix domain', 'sflow agent', 'udp'];
  return `${ip} ${names[tag]} ${tag === TAG.sflow ? `${Math.floor(id / 65536)}/${id % 65536}` : id}`;
}

const describeFingerprints = () => 'udp payload fingerprints';

/** Two independent 32-bit hashes (FNV-1a and a multiplicative mix) folded into 53 bits. */
export function payloadFingerprint(buf: Uint8Array, offset: number, length: number): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9 ^ length;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    const b = buf[i];
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff);
}

const fingerprintIdentifier: Identifier = {
  name: 'fingerprint',
  identify(d, streams, out) {
    if (d.appOffset < 0 || d.ipv4Offset < 0) return false;
    // One stream for every fingerprint: addresses and ports may be rewritten by NAT, the payload is not.
    out.stream = streams.intern(0, TAG.fingerprint, describeFingerprints);
    out.seq = payloadFingerprint(d.frame, d.appOffset, d.appLength);
    return true;
  },
};

const IDENTIFIERS = new Map<string, Identifier>(
  [probeIdentifier, flowExportIdentifier, fingerprintIdentifier].map((i) => [i.name, i]),
);

export function identifierNames(): string[] {
  return [...IDENTIFIERS.keys()];
}

/**
 * The identifiers to try, in order (default: all). Unknown names → RangeError naming the known ones.
 */
export function identifiers(names: readonly string[] = identifierNames()): Identifier[] {
  return names.map((n) => {
    const i = IDENTIFIERS.get(n);
    if (!i) throw new RangeError(`unknown identifier "${n}" (have: ${identifierNames().join(', ')})`);
    return i;
  });
}

/** Tries `chain` in order; the first match fills `out`. */
export function identifyDatagram(
  d: Dissection,
  chain: readonly Identifier[],
  streams: StreamTable,
  out: DatagramKey,
): boolean {
  for (const id of chain) {
    if (id.identify(d, streams, out)) {
      out.identifier = id.name;
      return true;
    }
  }
  return false;
}
