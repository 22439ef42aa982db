/**
 * NAT44 address/port rewriting on raw IPv4 bytes, as a NAT hop does it: destination NAT (the reference chain's
 * `dnat to 172.20.102.10:2055`) and source NAT (the fault-injection case), with the IPv4 header checksum and the
 * UDP/TCP checksum patched incrementally (RFC 1624) — never recomputed, so an already-wrong L4 checksum stays
 * wrong exactly as on a real NAT. A UDP checksum of 0 ("none", RFC 768) stays 0; a computed 0 is sent as 0xffff.
 *
 * Fragments: only the first fragment carries ports. Linux NAT never sees fragments — conntrack defragments
 * first (nf_defrag_ipv4) and the packet is re-fragmented on output — so on Linux the result is the same as
 * rewriting the whole datagram. For a stateless prediction on fragments: the first fragment (offset 0) is
 * matched and rewritten with ports; non-first fragments cannot be matched on ports, so they are matched on the
 * address only and get an address-only rewrite (their payload holds no checksum to fix). The incremental UDP
 * update of the first fragment stays valid for the whole datagram because the checksum covers the pseudo-header.
 *
 * Two forms each: `dnat44`/`snat44` return a rewritten copy (or the very same input object when the rule does
 * not match), `dnat44InPlace`/`snat44InPlace` patch the buffer and return whether they did.
 */
import { readU16, readU32, writeU16, writeU32 } from '../codec/bytes.ts';
import { updateChecksum16, updateChecksum32 } from '../codec/checksum.ts';
import {
  fragmentOffsetBytes,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  ipv4Number,
  ipv4PacketHeaderBytes,
  totalLength,
} from '../codec/ipv4.ts';

export interface Nat44Rule {
  /** which packets: address plus port (port ignored for non-first fragments and for protocols without ports) */
  match: { ip: string | number; port?: number };
  rewrite: { ip: string | number; port?: number };
}

export interface DnatRule {
  match: { dstIp: string | number; dstPort?: number };
  rewrite: { dstIp: string | number; dstPort?: number };
}

export interface SnatRule {
  match: { srcIp: string | number; srcPort?: number };
  rewrite: { srcIp: string | number; srcPort?: number };
}

/** L4 checksum offset inside the L4 header, or -1 when the protocol has no ports/checksum we patch. */
function l4ChecksumOffset(proto: number): number {
  return proto === IP_PROTO_UDP ? 6 : proto === IP_PROTO_TCP ? 16 : -1;
}

function rewriteInPlace(ip: Uint8Array, which: 'src' | 'dst', rule: Nat44Rule): boolean {
  const ihl = ipv4PacketHeaderBytes(ip, 0, ip.length, 'nat44');
  const addrOff = which === 'src' ? 12 : 16;
  const matchIp = ipv4Number(rule.match.ip);
  const newIp = ipv4Number(rule.rewrite.ip);
  const oldIp = readU32(ip, addrOff);
  if (oldIp !== matchIp) return false;
  const proto = ip[9];
  const csOff = l4ChecksumOffset(proto);
  const firstFragment = fragmentOffsetBytes(ip) === 0;
  const hasL4 = csOff >= 0 && firstFragment && totalLength(ip) >= ihl + (proto === IP_PROTO_UDP ? 8 : 20);
  const portOff = ihl + (which === 'src' ? 0 : 2);
  const oldPort = hasL4 ? readU16(ip, portOff) : -1;
  if (rule.match.port !== undefined && hasL4 && oldPort !== rule.match.port) return false;
  if (rule.match.port !== undefined && csOff >= 0 && firstFragment && !hasL4) return false; // truncated L4: cannot match

  // IPv4 header checksum: address change only
  writeU16(ip, 10, updateChecksum32(readU16(ip, 10), oldIp, newIp));
  writeU32(ip, addrOff, newIp);
  if (!hasL4) return true;

  const newPort = rule.rewrite.port ?? oldPort;
  const l4cs = ihl + csOff;
  const old = readU16(ip, l4cs);
  if (!(proto === IP_PROTO_UDP && old === 0)) {
    let c = updateChecksum32(old, oldIp, newIp); // pseudo-header address
    c = updateChecksum16(c, oldPort, newPort);
    if (proto === IP_PROTO_UDP && c === 0) c = 0xffff;
    writeU16(ip, l4cs, c);
  }
  writeU16(ip, portOff, newPort);
  return true;
}

const toNat = (ip: string | number, port: number | undefined) => ({ ip, port });

export function dnat44InPlace(ip: Uint8Array, rule: DnatRule): boolean {
  return rewriteInPlace(ip, 'dst', {
    match: toNat(rule.match.dstIp, rule.match.dstPort),
    rewrite: toNat(rule.rewrite.dstIp, rule.rewrite.dstPort),
  });
}

export function snat44InPlace(ip: Uint8Array, rule: SnatRule): boolean {
  return rewriteInPlace(ip, 'src', {
    match: toNat(rule.match.srcIp, rule.match.srcPort),
    rewrite: toNat(rule.rewrite.srcIp, rule.rewrite.srcPort),
  });
}

/** Destination NAT into a new buffer; returns the input object itself when the rule does not match. */
export function dnat44(ip: Uint8Array, rule: DnatRule): Uint8Array {
  const copy = ip.slice();
  return dnat44InPlace(copy, rule) ? copy : ip;
}

/** Source NAT into a new buffer; returns the input object itself when the rule does not match. */
export function snat44(ip: Uint8Array, rule: SnatRule): Uint8Array {
  const copy = ip.slice();
  return snat44InPlace(copy, rule) ? copy : ip;
}
