/**
 * The codec contract every protocol module implements (STYLE.md A3):
 *
 *   encodingLength(value)            → bytes `encode` will write
 *   encode(value, buf, offset = 0)   → bytes written; throws EncodeError for bad values or a too-small buffer
 *   decode(buf, offset = 0)          → { value, bytesRead }; bounds-checked, throws DecodeError(layer, offset, reason)
 *
 * Header codecs (ethernet, ipv4, udp, vxlan, esp, sll) encode/decode their header only: bytesRead is
 * where the next layer starts. Lengths and checksums that depend on the payload are filled by the
 * caller (see ipv4.ts `fillIpv4Checksum`, udp.ts `fillUdpChecksum`) or by template.ts.
 * `encodeToBytes` is the allocating convenience for tests and one-off packets.
 */
export interface Decoded<T> {
  value: T;
  bytesRead: number;
}

export interface Codec<T> {
  /** layer name used in errors and summaries, e.g. "ipv4" */
  readonly name: string;
  encodingLength(value: T): number;
  encode(value: T, buf: Uint8Array, offset?: number): number;
  decode(buf: Uint8Array, offset?: number): Decoded<T>;
}

export function encodeToBytes<T>(codec: Codec<T>, value: T): Uint8Array {
  const buf = new Uint8Array(codec.encodingLength(value));
  codec.encode(value, buf, 0);
  return buf;
}
