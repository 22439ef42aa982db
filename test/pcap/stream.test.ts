/**
 * The stream reader cut at arbitrary places gives exactly what the in-memory reader gives; packet views
 * stay intact after later packets are read; early exit releases the source.
 */
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import {
  PcapngWriter,
  type PcapPacket,
  PcapWriter,
  readPackets,
  readPacketsSync,
} from '../../src/pcap/index.ts';
import { bytesOf, craftedPcapng } from './crafted.ts';
import { prng, summarize } from './oracle.ts';

function ourPcap(): Uint8Array {
  const rnd = prng(1);
  const w = new PcapWriter({ precision: 'ns' });
  for (let i = 0; i < 400; i++)
    w.write(
      bytesOf(Math.floor(rnd() * (i % 50 === 0 ? 20000 : 1600)), i),
      1_700_000_000_000_000_000n + BigInt(i) * 12_345n,
    );
  return w.toBuffer();
}

function ourPcapng(): Uint8Array {
  const rnd = prng(2);
  const w = new PcapngWriter();
  const ids = ['ingress', 'vxlan-out', 'nat-out'].map((name, k) =>
    w.addInterface({ name, linktype: 1, tsresolNs: k === 2 ? 1000 : 1 }),
  );
  for (let i = 0; i < 300; i++) {
    w.writePacket(
      ids[i % 3],
      bytesOf(Math.floor(rnd() * 3000), i),
      1_700_000_000_000_000_000n + BigInt(i) * 777n,
      i % 7 ? {} : { comment: `probe ${i}` },
    );
  }
  return w.toBuffer();
}

const inputs: [string, () => Uint8Array][] = [
  ['our ns pcap', ourPcap],
  ['our 3-interface pcapng with comments', ourPcapng],
  ['hand-built BE+LE multi-section pcapng with skipped blocks', craftedPcapng],
];

/** Chunks of random size in [minBytes, maxBytes], seeded. */
function* chunked(
  bytes: Uint8Array,
  seed: number,
  minBytes: number,
  maxBytes: number,
): Generator<Uint8Array> {
  const rnd = prng(seed);
  for (let o = 0; o < bytes.length; ) {
    const n = minBytes + Math.floor(rnd() * (maxBytes - minBytes + 1));
    // Copies, like a real stream: chunks are separate buffers, not views of one file buffer.
    yield bytes.slice(o, o + n);
    o += n;
  }
}

async function collect(source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): Promise<PcapPacket[]> {
  const out: PcapPacket[] = [];
  for await (const p of readPackets(source)) out.push(p);
  return out;
}

describe('stream reader == in-memory reader', () => {
  test.each(inputs)('%s, Node Readable in 1..7-byte chunks', async (_name, make) => {
    const bytes = make();
    const expected = [...readPacketsSync(bytes)].map(summarize);
    expect(expected.length).toBeGreaterThan(5);
    // Summaries are computed after everything was read: views handed out earlier must still be intact.
    const got = await collect(Readable.from(chunked(bytes, 42, 1, 7)));
    expect(got.map(summarize)).toEqual(expected);
  });

  test.each(inputs)('%s, async iterable in 1..70000-byte chunks, 20 seeds', async (_name, make) => {
    const bytes = make();
    const expected = [...readPacketsSync(bytes)].map(summarize);
    for (let seed = 0; seed < 20; seed++) {
      const got = await collect(
        (async function* () {
          yield* chunked(bytes, seed, 1, 70_000);
        })(),
      );
      expect(got.map(summarize)).toEqual(expected);
    }
  });

  test('breaking out early destroys a Node stream source', async () => {
    const stream = Readable.from(chunked(ourPcap(), 3, 100, 1000));
    for await (const _ of readPackets(stream)) break;
    expect(stream.destroyed).toBe(true);
  });

  test('a stream with an encoding set is refused with a clear error', async () => {
    const stream = Readable.from(chunked(ourPcap(), 3, 100, 1000)).setEncoding('latin1');
    await expect(collect(stream)).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
