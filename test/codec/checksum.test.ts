/**
 * The Internet checksum's word-wise fast path (32-bit little-endian reads over aligned memory) against the
 * RFC 1071 definition written out byte by byte here, on random data at every alignment, parity and length
 * around the fast path's threshold; and against the checksums the kernel-independent oracles accept
 * (tshark/scapy checks of crafted packets live in the codec and traffic tests).
 */
import { describe, expect, it } from 'vitest';
import { internetChecksum, onesComplementSum } from '../../src/codec/checksum.ts';
import { prng } from '../../src/traffic/flow-pool.ts';

/** RFC 1071 as written: 16-bit big-endian words, odd byte padded with zero, end-around carry. */
function rfc1071Sum(bytes: Uint8Array, initial: number): number {
  let sum = initial;
  const fold = () => {
    while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  };
  fold();
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) + (i + 1 < bytes.length ? bytes[i + 1] : 0);
    fold();
  }
  return sum;
}

describe('onesComplementSum', () => {
  it('equals the byte-by-byte RFC 1071 sum at every alignment, parity and length', () => {
    const r = prng(7);
    const backing = new Uint8Array(4096 + 16);
    for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(r() * 256);
    let compared = 0;
    for (let viewStart = 0; viewStart < 8; viewStart++) {
      const buf = backing.subarray(viewStart);
      for (const length of [0, 1, 2, 3, 62, 63, 64, 65, 66, 67, 127, 128, 511, 1477, 4001]) {
        for (let offset = 0; offset < 8; offset++) {
          const initial = Math.floor(r() * 0x3ffff);
          const want = rfc1071Sum(buf.subarray(offset, offset + length), initial);
          const got = onesComplementSum(buf, offset, length, initial);
          // 0 and 0xffff are the same number in one's complement; the sum of nonzero data is never +0
          expect(got === want || (got % 0xffff === 0 && want % 0xffff === 0)).toBe(true);
          compared++;
        }
      }
    }
    expect(compared).toBe(8 * 15 * 8);
  });

  it('is 0xffff over data that carries its own checksum, whatever the alignment', () => {
    const r = prng(11);
    for (const length of [20, 100, 1400, 8000]) {
      for (const at of [0, 1, 2, 3]) {
        const backing = new Uint8Array(length + 8);
        const data = backing.subarray(at, at + length);
        for (let i = 0; i < length; i++) data[i] = Math.floor(r() * 256);
        data[10] = 0;
        data[11] = 0;
        const c = internetChecksum(data, 0, length);
        data[10] = c >>> 8;
        data[11] = c & 0xff;
        expect(onesComplementSum(data, 0, length)).toBe(0xffff);
      }
    }
  });

  it('reads the right bytes when the summed buffers change (a cached view is never stale)', () => {
    const a = new Uint8Array(256).fill(1);
    const b = new Uint8Array(512).fill(2);
    expect(onesComplementSum(a, 0, 256)).toBe(rfc1071Sum(a, 0));
    expect(onesComplementSum(b, 0, 512)).toBe(rfc1071Sum(b, 0));
    a.fill(3);
    expect(onesComplementSum(a, 0, 256)).toBe(rfc1071Sum(a, 0));
  });
});
