/**
 * Format coverage with hand-built files (crafted.ts): big-endian pcap and pcapng, IDB options
 * (if_tsresol in both forms, if_tsoffset, if_name), SPB, obsolete PB, skipped NRB/ISB/DSB/custom blocks,
 * multiple sections with different byte orders; and the errors for malformed input, with offsets.
 * tshark reads the same bytes as the oracle.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  PcapFormatError,
  type PcapInterface,
  type PcapPacket,
  readPackets,
  readPacketsSync,
} from '../../src/pcap/index.ts';
import { bytesOf, craftedPcapng, craftPcap, PcapngCrafter } from './crafted.ts';
import { summarize, tsharkFrames } from './oracle.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpt-pcapf-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
async function viaTshark(name: string, bytes: Uint8Array) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return tsharkFrames(path);
}

/** Every packet, then the error (if any) the reader ended with. */
function readAll(bytes: Uint8Array): { packets: PcapPacket[]; error?: unknown } {
  const packets: PcapPacket[] = [];
  try {
    for (const p of readPacketsSync(bytes)) packets.push(p);
  } catch (error) {
    return { packets, error };
  }
  return { packets };
}

const classicPackets = [
  { seconds: 1_700_000_000, fraction: 1, data: bytesOf(60, 1) },
  { seconds: 1_700_000_001, fraction: 999_999, data: bytesOf(1514, 2), originalLength: 9000 },
  { seconds: 4_000_000_000, fraction: 123_456, data: bytesOf(1, 3) }, // u32 seconds past 2038
];

describe('classic pcap in both byte orders', () => {
  test.each([
    [true, false],
    [true, true],
    [false, false],
    [false, true],
  ])('bigEndian=%s nano=%s matches tshark', async (bigEndian, nano) => {
    const bytes = craftPcap({ bigEndian, nano, linktype: 1, packets: classicPackets });
    const ours = [...readPacketsSync(bytes)];
    expect(ours.map(summarize)).toEqual(await viaTshark(`c-${bigEndian}-${nano}.pcap`, bytes));
    expect(ours[1].timestampNs).toBe(1_700_000_001_000_000_000n + (nano ? 999_999n : 999_999_000n));
    expect(ours[2].timestampNs).toBe(4_000_000_000_000_000_000n + (nano ? 123_456n : 123_456_000n));
  });
});

describe('pcapng', () => {
  test('big-endian section + little-endian section: packets, options and skipped blocks match tshark', async () => {
    const bytes = craftedPcapng();
    const interfaces: PcapInterface[] = [];
    const ours = [...readPacketsSync(bytes, { onInterface: (i) => interfaces.push(i) })];
    const theirs = await viaTshark('crafted.pcapng', bytes);
    const mine = ours.map(summarize);
    // tshark 4.0 numbers interfaces per section (frame.interface_id 0 for the second section's IDB);
    // we number them across sections like newer Wireshark, so compare ids only in the first section.
    expect(mine.map((f) => ({ ...f, interfaceId: 0 }))).toEqual(
      theirs.map((f) => ({ ...f, interfaceId: 0 })),
    );
    expect(mine.slice(0, 4).map((f) => f.interfaceId)).toEqual(theirs.slice(0, 4).map((f) => f.interfaceId));
    expect(ours.map((p) => p.interfaceId)).toEqual([0, 1, 0, 0, 2, 2]);
    expect(ours.map((p) => p.linktype)).toEqual([1, 101, 1, 1, 1, 1]);
    expect(ours[0].comment).toBe('hello BE'); // the first opt_comment
    expect(ours[1].timestampNs).toBe(1_700_000_000_005_859_375n); // 6 ticks of 2^-10 s
    expect(ours[2].timestampNs).toBe(0n); // SPB has no timestamp (tshark prints none)
    expect(ours[2].capturedLength).toBe(100);
    expect(ours[4].timestampNs).toBe(1_700_000_013_000_001_000n); // µs ticks + if_tsoffset 10 s
    expect(interfaces.map((i) => [i.id, i.name, i.tsresolNs, i.snaplen, i.sectionIndex])).toEqual([
      [0, 'be-ns', 1, 0, 0],
      [1, 'be-pow2', 1e9 / 1024, 128, 0],
      [2, 'le-us', 1000, 0, 1],
    ]);
    expect(interfaces[1].description).toBe('power-of-two ticks');
  });

  test('custom and unknown blocks are skipped (tshark 4.0 shows custom blocks as records, so no oracle here)', () => {
    const c = new PcapngCrafter(true);
    const bytes = c
      .shb()
      .opaque(0x0bad, bytesOf(40, 9))
      .idb(1, 0)
      .opaque(0x12345678, bytesOf(3, 1))
      .epb(0, 7n, bytesOf(9, 2))
      .opaque(0x40000bad, new Uint8Array(0))
      .toBuffer();
    expect([...readPacketsSync(bytes)].map((p) => [p.timestampNs, p.capturedLength])).toEqual([[7000n, 9]]); // no if_tsresol: µs ticks
  });

  test('SPB captured length is capped by the snaplen of IDB 0', () => {
    const c = new PcapngCrafter(false);
    const bytes = c.shb().idb(1, 64).spb(1500, bytesOf(64, 1)).toBuffer();
    const [p] = readPacketsSync(bytes);
    expect([p.capturedLength, p.originalLength]).toEqual([64, 1500]);
  });

  test('if_tsresol finer than ns (10^-12) divides exactly', () => {
    const c = new PcapngCrafter(false);
    const bytes = c
      .shb()
      .idb(1, 0, c.option(9, Uint8Array.of(12)))
      .epb(0, 12_345_678_901_234_567n, bytesOf(4, 1))
      .toBuffer(); // 64-bit ps only reach ~213 days
    expect([...readPacketsSync(bytes)][0].timestampNs).toBe(12_345_678_901_234n);
  });

  test('a huge unknown block is skipped by the stream reader without buffering it', async () => {
    const c = new PcapngCrafter(false);
    const big = new Uint8Array(8 * 1024 * 1024);
    const bytes = c.shb().idb(1, 0).opaque(0x0a, big).epb(0, 5n, bytesOf(10, 1)).toBuffer();
    async function* chunks() {
      for (let o = 0; o < bytes.length; o += 65536) yield bytes.subarray(o, o + 65536);
    }
    const got: PcapPacket[] = [];
    for await (const p of readPackets(chunks())) got.push(p);
    expect(got.map((p) => p.capturedLength)).toEqual([10]);
  });
});

describe('malformed input → PcapFormatError naming the byte offset', () => {
  const good = craftPcap({ bigEndian: false, nano: true, linktype: 1, packets: classicPackets });
  const cases: [string, () => Uint8Array, number, RegExp, number][] = [
    ['empty input', () => new Uint8Array(0), 0, /empty input/, 0],
    ['unknown magic', () => Buffer.from('GIF89a....................'), 0, /unknown magic 0x47494638/, 0],
    ['truncated file header', () => good.subarray(0, 20), 0, /truncated/, 0],
    [
      'truncated final record (earlier packets yielded)',
      () => good.subarray(0, good.length - 1),
      24 + 16 + 60 + 16 + 1514,
      /needs 17 bytes.*ends after 16/,
      2,
    ],
    ['truncated record header', () => good.subarray(0, 24 + 16 + 60 + 5), 24 + 16 + 60, /needs 16 bytes/, 1],
    [
      'caplen beyond 262144 (an error, not an allocation)',
      () => {
        const b = Buffer.from(good);
        b.writeUInt32LE(0x7fffffff, 24 + 8);
        return b;
      },
      24 + 8,
      /exceeds the maximum 262144/,
      0,
    ],
    [
      'pcap version 3',
      () => {
        const b = Buffer.from(good);
        b.writeUInt16LE(3, 4);
        return b;
      },
      4,
      /version 3/,
      0,
    ],
    [
      'pcapng bad byte-order magic',
      () => {
        const b = new PcapngCrafter(false).shb().toBuffer();
        b.writeUInt32LE(0x12345678, 8);
        return b;
      },
      8,
      /byte-order magic/,
      0,
    ],
    [
      'pcapng trailing length mismatch',
      () => {
        const b = new PcapngCrafter(false).shb().idb(1, 0).toBuffer();
        b.writeUInt32LE(24, b.length - 4);
        return b;
      },
      28 + 20 - 4,
      /trailing length 24 differs from its leading length 20/,
      0,
    ],
    [
      'pcapng block length not a multiple of 4',
      () => {
        const c = new PcapngCrafter(false);
        const b = c.shb().idb(1, 0).toBuffer();
        b.writeUInt32LE(21, 28 + 4);
        return b;
      },
      28 + 4,
      /bad block total length 21/,
      0,
    ],
    [
      'pcapng EPB for an undeclared interface',
      () => {
        const c = new PcapngCrafter(false);
        return c.shb().idb(1, 0).epb(0, 1n, bytesOf(4, 1)).epb(3, 1n, bytesOf(4, 1)).toBuffer();
      },
      28 + 20 + 36 + 8,
      /interface 3, but the section has 1/,
      1,
    ],
    [
      'pcapng captured length larger than its block',
      () => {
        const c = new PcapngCrafter(false);
        const b = c.shb().idb(1, 0).epb(0, 1n, bytesOf(8, 1)).toBuffer();
        b.writeUInt32LE(200, 28 + 20 + 20);
        return b;
      },
      28 + 20 + 20,
      /captured length 200 does not fit/,
      0,
    ],
    [
      'pcapng option running past its block',
      () => {
        const c = new PcapngCrafter(false);
        const b = c.shb().idb(1, 0, c.option(2, 'eth0')).toBuffer();
        b.writeUInt16LE(200, 28 + 16 + 2);
        return b;
      },
      28 + 16,
      /option of length 200 runs past/,
      0,
    ],
    [
      'pcapng truncated inside a skipped block',
      () => {
        const c = new PcapngCrafter(false);
        const b = c.shb().opaque(0x0a, new Uint8Array(100)).toBuffer();
        return b.subarray(0, b.length - 10);
      },
      28,
      /inside this block|needs 112 bytes/,
      0,
    ],
    [
      'pcapng SPB before any IDB',
      () => new PcapngCrafter(false).shb().spb(4, bytesOf(4, 1)).toBuffer(),
      28,
      /before any Interface Description Block/,
      0,
    ],
  ];

  test.each(cases)('%s', async (_name, make, offset, reason, packetsBefore) => {
    const bytes = make();
    const { packets, error } = readAll(bytes);
    expect(error).toBeInstanceOf(PcapFormatError);
    const e = error as PcapFormatError;
    expect(e.code).toBe('E_PCAP_MALFORMED');
    expect(e.badInput).toBe(true);
    expect(e.message).toMatch(reason);
    expect(e.byteOffset).toBe(offset);
    expect(e.message).toContain(`at byte offset ${offset}`);
    expect(packets.length).toBe(packetsBefore);
    // The stream reader yields the same packets and fails the same way, even byte by byte.
    async function* bytewise() {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    let streamed = 0;
    let streamError: unknown;
    try {
      for await (const _ of readPackets(bytewise())) streamed++;
    } catch (err) {
      streamError = err;
    }
    expect(streamed).toBe(packetsBefore);
    expect(streamError).toBeInstanceOf(PcapFormatError);
    expect((streamError as PcapFormatError).byteOffset).toBe(offset);
  });

  test('a missing file is a ChainprobeError, not a raw fs error', async () => {
    await expect(readPackets('/nonexistent/x.pcap').next()).rejects.toMatchObject({ code: 'E_PCAP_OPEN' });
  });
});
