/**
 * The Internet checksum (RFC 1071), the one place chainprobe computes it.
 * Works on any byte range of a Uint8Array without copying; `initial` chains partial sums
 * (e.g. a UDP pseudo-header followed by the datagram).
 */
export function onesComplementSum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  // Fold carries; at most two folds are needed for sums below 2^32.
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
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
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
