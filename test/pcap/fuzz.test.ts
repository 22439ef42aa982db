/**
 * Robustness: every truncation and thousands of seeded random mutations of valid files end either cleanly
 * or with PcapFormatError, never another exception or a hang; the stream reader (random chunking) agrees
 * with the in-memory reader on packets and error offset. Seeds are fixed: a failure names its seed.
 */
import { describe, expect, test } from 'vitest';
import {
  PcapFormatError,
  PcapngWriter,
  PcapWriter,
  readPackets,
  readPacketsSync,
} from '../../src/pcap/index.ts';
import { bytesOf, craftedPcapng, craftPcap } from './crafted.ts';
import { prng } from './oracle.ts';

const t0 = 1_700_000_000_000_000_000n;
const bases: [string, () => Uint8Array][] = [
  [
    'pcap ns (ours)',
    () => {
      const w = new PcapWriter();
      for (let i = 0; i < 20; i++) w.write(bytesOf((i * 37) % 300, i), t0 + BigInt(i));
      return w.toBuffer();
    },
  ],
  [
    'pcap µs big-endian (hand-built)',
    () =>
      craftPcap({
        bigEndian: true,
        nano: false,
        linktype: 101,
        packets: Array.from({ length: 12 }, (_, i) => ({
          seconds: 1_700_000_000 + i,
          fraction: i,
          data: bytesOf(i * 20, i),
        })),
      }),
  ],
  [
    'pcapng 3 interfaces with comments (ours)',
    () => {
      const w = new PcapngWriter();
      for (const name of ['a', 'b', 'c'])
        w.addInterface({ name, linktype: 1, tsresolNs: name === 'c' ? 1000 : 1 });
      for (let i = 0; i < 20; i++)
        w.writePacket(i % 3, bytesOf((i * 53) % 250, i), t0 + BigInt(i), i % 4 ? {} : { comment: `c${i}` });
      return w.toBuffer();
    },
  ],
  ['pcapng BE+LE sections, SPB, NRB/ISB/DSB (hand-built)', craftedPcapng],
];

interface Outcome {
  stamps: bigint[];
  lengths: number[];
  errorOffset?: number;
}

/** Reads synchronously; any exception other than PcapFormatError fails the test with context. */
function outcomeSync(bytes: Uint8Array, context: string): Outcome {
  const o: Outcome = { stamps: [], lengths: [] };
  try {
    for (const p of readPacketsSync(bytes)) {
      o.stamps.push(p.timestampNs);
      o.lengths.push(p.capturedLength);
      if (p.data.length !== p.capturedLength)
        throw new Error(`data view of ${p.data.length} bytes for capturedLength ${p.capturedLength}`);
    }
  } catch (e) {
    if (!(e instanceof PcapFormatError)) throw new Error(`${context}: ${(e as Error).stack}`);
    o.errorOffset = e.byteOffset;
  }
  return o;
}

async function outcomeStream(bytes: Uint8Array, seed: number, context: string): Promise<Outcome> {
  const rnd = prng(seed);
  async function* chunks() {
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 64);
      yield bytes.slice(at, at + n);
      at += n;
    }
  }
  const o: Outcome = { stamps: [], lengths: [] };
  try {
    for await (const p of readPackets(chunks())) {
      o.stamps.push(p.timestampNs);
      o.lengths.push(p.capturedLength);
    }
  } catch (e) {
    if (!(e instanceof PcapFormatError)) throw new Error(`${context}: ${(e as Error).stack}`);
    o.errorOffset = e.byteOffset;
  }
  return o;
}

describe.each(bases)('%s', (_name, make) => {
  const base = make();
  const full = outcomeSync(base, 'base');

  test('the base file reads cleanly', () => {
    expect(full.errorOffset).toBeUndefined();
    expect(full.stamps.length).toBeGreaterThan(3);
  });

  test('every truncation: a prefix of the packets, then PcapFormatError at or before the cut (or a clean end)', () => {
    let clean = 0;
    for (let cut = 0; cut < base.length; cut++) {
      const o = outcomeSync(base.subarray(0, cut), `cut ${cut}`);
      expect(o.stamps).toEqual(full.stamps.slice(0, o.stamps.length));
      if (o.errorOffset === undefined) clean++;
      else expect(o.errorOffset).toBeLessThanOrEqual(cut);
    }
    // Clean ends happen only at record boundaries: at most one per record, never for cut 0.
    expect(clean).toBeLessThanOrEqual(full.stamps.length + 12);
  });

  test('3000 random mutations per seed block: only PcapFormatError; stream reader agrees', async () => {
    const interesting = [
      0, 1, 4, 12, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x0a0d0d0a, 0x1a2b3c4d, 0x4d3c2b1a, 262145,
    ];
    for (let seed = 1; seed <= 3000; seed++) {
      const rnd = prng(seed * 7919);
      const bytes = Uint8Array.from(base);
      const view = new DataView(bytes.buffer);
      const edits = 1 + Math.floor(rnd() * 6);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(rnd() * bytes.length);
        if (rnd() < 0.5) bytes[at] = Math.floor(rnd() * 256);
        else if (at + 4 <= bytes.length) {
          view.setUint32(at & ~3, interesting[Math.floor(rnd() * interesting.length)], rnd() < 0.5);
        }
      }
      const cut = rnd() < 0.3 ? Math.floor(rnd() * bytes.length) : bytes.length;
      const input = bytes.subarray(0, cut);
      const context = `seed ${seed}`;
      const sync = outcomeSync(input, context);
      if (seed % 10 === 0) expect(await outcomeStream(input, seed, context), context).toEqual(sync);
    }
  });
});
