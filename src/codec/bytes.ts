/**
 * Small byte-level helpers shared by the codecs: bounds checks that throw the typed errors, big-endian
 * reads/writes on plain Uint8Arrays (no DataView allocation on hot paths), and the "caller's buffer or a
 * fresh one" rule of the encode/decode/encodingLength triple (STYLE.md A3).
 */
import { DecodeError, EncodeError } from './errors.ts';

/** Throws DecodeError unless `length` bytes are available at `offset`. */
export function needBytes(
  buf: Uint8Array,
  offset: number,
  length: number,
  layer: string,
  what = 'header',
): void {
  if (offset < 0 || offset + length > buf.length) {
    throw new DecodeError(
      layer,
      offset,
      `truncated ${what}: need ${length} bytes, ${Math.max(0, buf.length - offset)} available`,
    );
  }
}

/** The buffer an encoder writes into: the caller's (checked for room) or a new one of exactly `length` bytes. */
export function targetBuffer(
  buf: Uint8Array | undefined,
  offset: number,
  length: number,
  layer: string,
): Uint8Array {
  if (!buf) return new Uint8Array(offset + length);
  if (offset < 0 || offset + length > buf.length) {
    throw new EncodeError(
      layer,
      'buffer',
      `needs ${length} bytes at offset ${offset}, buffer has ${buf.length}`,
    );
  }
  return buf;
}

/** Throws EncodeError unless `value` is an integer in [0, max]. */
export function checkUint(layer: string, field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new EncodeError(layer, field, `${value} is not an integer in 0..${max}`);
  }
}

export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function readU24(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
/** A 48-bit big-endian value (a MAC address) as a number; exact, since 2^48 < 2^53. */
export function readU48(b: Uint8Array, o: number): number {
  return readU16(b, o) * 0x100000000 + readU32(b, o + 2);
}
export function readU64(b: Uint8Array, o: number): bigint {
  return (BigInt(readU32(b, o)) << 32n) | BigInt(readU32(b, o + 4));
}
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
export function writeU24(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 16;
  b[o + 1] = v >>> 8;
  b[o + 2] = v;
}
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
export function writeU48(b: Uint8Array, o: number, v: number): void {
  writeU16(b, o, Math.floor(v / 0x100000000));
  writeU32(b, o + 2, v >>> 0);
}
export function writeU64(b: Uint8Array, o: number, v: bigint): void {
  writeU32(b, o, Number((v >> 32n) & 0xffffffffn));
  writeU32(b, o + 4, Number(v & 0xffffffffn));
}

/** `0x`-prefixed, zero-padded hex for human descriptions of header fields. */
export function hex(n: number, digits: number): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}
