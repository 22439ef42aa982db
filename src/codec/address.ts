/**
 * IPv4 and MAC addresses. Codec values hold them as numbers (IPv4: uint32, MAC: 48-bit, both exact in a
 * JS number) so decoding allocates no strings; these helpers convert to and from the text forms used in
 * profiles and reports ('10.10.10.5', '02:00:00:0a:0a:01').
 */
import { EncodeError } from './errors.ts';

export type Ipv4Address = number;
export type MacAddress = number;

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC_TEXT =
  /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;

export function parseIpv4(text: string): Ipv4Address {
  const m = IPV4_TEXT.exec(text);
  if (!m) throw new EncodeError('ipv4', 'address', `"${text}" is not an IPv4 address like 10.10.10.5`);
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new EncodeError('ipv4', 'address', `"${text}": octet ${octet} > 255`);
    v = v * 256 + octet;
  }
  return v;
}

export function ipv4ToString(a: Ipv4Address): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function parseMac(text: string): MacAddress {
  const m = MAC_TEXT.exec(text);
  if (!m)
    throw new EncodeError('ethernet', 'address', `"${text}" is not a MAC address like 02:00:00:0a:0a:01`);
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + Number.parseInt(m[i], 16);
  return v;
}

export function macToString(a: MacAddress): string {
  const hi = Math.floor(a / 0x100000000);
  const lo = a >>> 0;
  const bytes = [hi >>> 8, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Accepts either form; profiles carry text, codecs carry numbers. */
export function toIpv4(a: string | Ipv4Address): Ipv4Address {
  return typeof a === 'string' ? parseIpv4(a) : a;
}
export function toMac(a: string | MacAddress): MacAddress {
  return typeof a === 'string' ? parseMac(a) : a;
}
