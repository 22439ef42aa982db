/**
 * The IPsec hop as the oracle sees it: one inner packet in, the exact packets on the wire out — and back.
 *
 * strongSwan's libipsec reads its TUN device (ipsec0, MTU fixed at 1400) so the *kernel* fragments the inner
 * packet before encryption, and the ESP packets are fragmented again on the 1400-byte link (REFCHAIN G2: an
 * 8028-byte inner packet → 6 inner fragments → 6 ESP packets → 11 frames). VPP encrypts the whole inner packet
 * and fragments only afterwards (`innerMtuBytes` omitted).
 */
import type { EspSa } from './esp-sa.ts';
import { type FragmentFinding, fragment, Reassembler } from './fragment.ts';

export interface WireProfile {
  /** fragment inner packets to this size before encryption (libipsec's TUN MTU); omit for VPP */
  innerMtuBytes?: number;
  /** MTU of the link the ESP packets leave on */
  wireMtuBytes: number;
}

export interface WirePrediction {
  /** inner packets as encrypted (the inner fragments with innerMtuBytes, else the packet itself) */
  innerPackets: Uint8Array[];
  /** one complete outer ESP packet per inner packet */
  espPackets: Uint8Array[];
  /** what is on the wire: the ESP packets fragmented to wireMtuBytes, in sending order */
  wireFragments: Uint8Array[];
}

/** Encrypts one inner packet the way the hop does; consumes sequence numbers and IP IDs from the SA. */
export function encryptForWire(sa: EspSa, innerIp: Uint8Array, profile: WireProfile): WirePrediction {
  const innerPackets = profile.innerMtuBytes
    ? fragment(innerIp, { mtuBytes: profile.innerMtuBytes })
    : [innerIp];
  const espPackets = innerPackets.map((p) => sa.encrypt(p));
  const wireFragments = espPackets.flatMap((p) => fragment(p, { mtuBytes: profile.wireMtuBytes }));
  return { innerPackets, espPackets, wireFragments };
}

export interface WireDecryptResult {
  /** the reassembled inner packets (normally one) */
  inner: Uint8Array[];
  espPackets: number;
  findings: FragmentFinding[];
}

/**
 * The far end: reassemble outer fragments, decrypt each ESP packet, reassemble the inner fragments. Throws
 * EspError on a packet that does not decrypt; fragmentation problems come back as findings.
 */
export function decryptFromWire(sa: EspSa, wire: readonly Uint8Array[]): WireDecryptResult {
  const outer = new Reassembler();
  const innerR = new Reassembler();
  const findings: FragmentFinding[] = [];
  const inner: Uint8Array[] = [];
  let espPackets = 0;
  let t = 0n;
  const take = (events: ReturnType<Reassembler['push']>, sink: (p: Uint8Array) => void) => {
    for (const e of events) {
      findings.push(...e.findings);
      if (e.kind === 'complete') sink(e.packet);
    }
  };
  const onInner = (p: Uint8Array) => inner.push(p);
  const onEsp = (p: Uint8Array) => {
    espPackets++;
    take(innerR.push(sa.decrypt(p).inner, t), onInner);
  };
  for (const f of wire) take(outer.push(f, t++), onEsp);
  take(outer.flush(t), onEsp);
  take(innerR.flush(t), onInner);
  return { inner, espPackets, findings };
}
