/**
 * The Internet checksum (RFC 1071), the one place chainprobe computes it.
 * Works on any byte range of a Uint8Array without copying; `initial` chains partial sums
 * (e.g. a UDP pseudo-header followed by the datagram).
 */
export function onesComplementSum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  let i = offset;
  const end = offset + length;
  if (LITTLE_ENDIAN && length >= WORDWISE_MIN_BYTES && length <= WORDWISE_MAX_BYTES) {
    // Long ranges are summed 32 bits at a time through an aligned Uint32Array over the same memory (about
    // 3x faster: the generators checksum every datagram). A byte at an even distance from `offset` weighs
    // 256; a little-endian word gives weight 256 to odd absolute addresses, so when `offset` lies at an even
    // address the word sum is the byte-swapped one (multiplying by 256 modulo 0xffff is a rotation by 8).
    const at = buf.byteOffset + offset;
    const head = (4 - (at & 3)) & 3;
    const words = (length - head) >>> 2;
    const view = wordsOf(buf.buffer);
    const w0 = (at + head) >>> 2;
    // Doubles, exact up to 2^21 words of 2^32; unrolled by four (about 2x faster again in V8).
    let s0 = 0;
    let s1 = 0;
    let k = w0;
    const kEnd = w0 + words;
    for (; k + 3 < kEnd; k += 4) {
      s0 += view[k] + view[k + 2];
      s1 += view[k + 1] + view[k + 3];
    }
    for (; k < kEnd; k++) s0 += view[k];
    const s = s0 + s1;
    let folded = s === 0 ? 0 : s % 0xffff || 0xffff;
    if ((at & 1) === 0) folded = ((folded & 0xff) << 8) | (folded >>> 8);
    sum += folded + byteSum(buf, i, i + head, offset);
    i = offset + head + words * 4;
  }
  sum += byteSum(buf, i, end, offset);
  // Fold carries; at most two folds are needed for sums below 2^32.
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const WORDWISE_MIN_BYTES = 64;
const WORDWISE_MAX_BYTES = 1 << 22; // 2^20 words of 2^32 stay exact in a double

// The Uint32Array over the last buffer summed: generators and pcap readers sum many ranges of one buffer.
let lastBuffer: ArrayBufferLike | undefined;
let lastWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
function wordsOf(buffer: ArrayBufferLike): Uint32Array<ArrayBufferLike> {
  if (buffer !== lastBuffer || lastWords.length !== buffer.byteLength >>> 2) {
    lastBuffer = buffer;
    lastWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return lastWords;
}

/** Bytes [from, end) as 16-bit big-endian words counted from `origin` (even distance: high byte). */
function byteSum(buf: Uint8Array, from: number, end: number, origin: number): number {
  let sum = 0;
  let i = from;
  if ((i - origin) & 1 && i < end) sum += buf[i++];
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/** The checksum of a partial sum (any non-negative integer below 2^53): folded, then complemented. */
export function checksumOfSum(sum: number): number {
  let s = sum > 0xffffffff ? sum % 0xffff || 0xffff : sum;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Final checksum value to write into a header (complement of the folded sum). */
export function internetChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~onesComplementSum(buf, offset, length, initial) & 0xffff;
}

/** Partial sum of the IPv4 pseudo-header for UDP/TCP: src, dst (4-byte big-endian at the given offsets), protocol, length. */
export function pseudoHeaderSum(
  buf: Uint8Array,
  srcOffset: number,
  dstOffset: number,
  protocol: number,
  l4Length: number,
): number {
  let sum = onesComplementSum(buf, srcOffset, 4);
  sum = onesComplementSum(buf, dstOffset, 4, sum);
  return sum + protocol + l4Length;
}

/**
 * RFC 1624 eqn. 3 incremental update: the checksum after one 16-bit word it covers changes from
 * `oldWord` to `newWord` (call once per changed word, e.g. twice for a rewritten IPv4 address, which also
 * changes the UDP checksum through the pseudo-header). For UDP, keep a 0 (absent) checksum 0, and send a
 * computed 0 as 0xffff.
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  return checksumOfSum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff));
}

/** The checksum after a 32-bit field it covers (an address) changed: RFC 1624 on both 16-bit words. */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const c = updateChecksum16(checksum, oldValue >>> 16, newValue >>> 16);
  return updateChecksum16(c, oldValue & 0xffff, newValue & 0xffff);
}
