/**
 * Plausible flows for generated exports: 5-tuples between documentation prefixes (RFC 5737: 192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24 — never real hosts), protocol mix, packet/byte counters, durations.
 * Built once per exporter from a seeded PRNG; exporters copy encoded records out of a pool and patch times.
 */
export interface PoolFlow {
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  protocol: number;
  tos: number;
  tcpFlags: number;
  packets: number;
  octets: number;
  /** the flow ended this long before the export (ms) */
  endAgoMs: number;
  /** and lasted this long (ms) */
  durationMs: number;
  input: number;
  output: number;
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NETS = [0xc0000200, 0xc6336400, 0xcb007100]; // 192.0.2.0, 198.51.100.0, 203.0.113.0
const SERVICES = [53, 80, 123, 443, 443, 443, 993, 8080];

export function flowPool(seed: number, size: number): PoolFlow[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const out: PoolFlow[] = [];
  for (let i = 0; i < size; i++) {
    const protocol = r() < 0.7 ? 6 : r() < 0.9 ? 17 : 1;
    const packets = 1 + Math.floor(r() ** 3 * 5000);
    const meanSize = protocol === 6 ? 64 + Math.floor(r() * 1400) : 40 + Math.floor(r() * 500);
    out.push({
      src: (pick(NETS) | (1 + Math.floor(r() * 254))) >>> 0,
      dst: (pick(NETS) | (1 + Math.floor(r() * 254))) >>> 0,
      srcPort: protocol === 1 ? 0 : 1024 + Math.floor(r() * 64000),
      dstPort: protocol === 1 ? 0x0800 : pick(SERVICES),
      protocol,
      tos: r() < 0.9 ? 0 : 0xb8,
      tcpFlags: protocol === 6 ? 0x1b : 0,
      packets,
      octets: packets * meanSize,
      endAgoMs: Math.floor(r() * 2000),
      durationMs: Math.floor(r() * 60_000),
      input: 1 + Math.floor(r() * 4),
      output: 5 + Math.floor(r() * 4),
    });
  }
  return out;
}

/**
 * Encoded records (or samples) laid out so that any `perChunk` consecutive ones (cyclically) are one
 * contiguous view: a datagram's records are copied with a single `set`, then patched in place.
 */
export class RecordRing {
  private readonly views: Uint8Array[] = [];
  /** byte offset of record j of the ring (j < size + perChunk) */
  private readonly starts: Int32Array;
  readonly size: number;

  constructor(
    records: readonly Uint8Array[],
    readonly perChunk: number,
  ) {
    this.size = records.length;
    const seq = [...records, ...Array.from({ length: perChunk }, (_, i) => records[i % records.length])];
    this.starts = new Int32Array(seq.length + 1);
    seq.forEach((r, j) => {
      this.starts[j + 1] = this.starts[j] + r.length;
    });
    const ring = new Uint8Array(this.starts[seq.length]);
    seq.forEach((r, j) => {
      ring.set(r, this.starts[j]);
    });
    for (let k = 0; k < this.size; k++)
      this.views.push(ring.subarray(this.starts[k], this.starts[k + perChunk]));
  }

  /** records k, k+1, … k+perChunk-1 (mod size), contiguous */
  chunk(k: number): Uint8Array {
    return this.views[k];
  }

  /** offset of the i-th record of chunk k inside the chunk */
  offsetIn(k: number, i: number): number {
    return this.starts[k + i] - this.starts[k];
  }

  /** the largest chunk in bytes */
  get maxChunkBytes(): number {
    let m = 0;
    for (const v of this.views) m = Math.max(m, v.length);
    return m;
  }
}
