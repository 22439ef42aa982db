/**
 * Fragmentation and reassembly against scapy (fragment / defragment) and tshark, plus the REFCHAIN G2 shape
 * (8028-byte inner packet → 6 ESP packets → 11 frames) and the fragmentation findings.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, test } from 'vitest';
import { EspSa } from '../../src/transform/esp-sa.ts';
import { decryptFromWire, encryptForWire } from '../../src/transform/esp-wire.ts';
import { FragmentError, fragment, Reassembler, reassemble } from '../../src/transform/fragment.ts';
import { requiresTool } from '../helpers/requires.ts';
import { hex, scapy, unhex } from './scapy.ts';

let original: Uint8Array; // 8028-byte UDP datagram built by scapy (the REFCHAIN jumbo inner packet)
let scapyFrags: Uint8Array[]; // scapy fragment(pkt, 1400)
let scapyFrags1376: Uint8Array[]; // scapy fragment(pkt, 1376): what Linux sends for MTU 1400
let scapyDefragOfOurs: string;

beforeAll(async () => {
  const r = await scapy<{ pkt: string; frags: string[]; frags1376: string[] }>(
    `
def main(inp):
    p = IP(src='10.10.10.5', dst='172.20.102.10', id=0x1234, ttl=64)/UDP(sport=40000, dport=2055)/Raw(bytes((i * 7) & 0xff for i in range(8000)))
    return dict(pkt=bytes(p).hex(), frags=[bytes(f).hex() for f in fragment(p, 1400)],
                frags1376=[bytes(f).hex() for f in fragment(p, 1376)])
`,
    {},
  );
  original = unhex(r.pkt);
  scapyFrags = r.frags.map(unhex);
  scapyFrags1376 = r.frags1376.map(unhex);
  const ours = fragment(original, { mtuBytes: 1400 });
  scapyDefragOfOurs = (
    await scapy<{ out: string }>(
      `
def main(inp):
    frags = [IP(h(x)) for x in inp['frags']]
    d = defragment(frags)
    full = [p for p in d if IP in p and p[IP].flags.MF == 0 and p[IP].frag == 0]
    return dict(out=bytes(full[0]).hex() if full else '')
`,
      { frags: ours.map(hex) },
    )
  ).out;
});

describe('fragment (RFC 791)', () => {
  test('MTU 1400: 5 × 1396 + 1148, offsets multiple of 8, same ID, MF on all but the last', () => {
    const frags = fragment(original, { mtuBytes: 1400 });
    expect(frags.map((f) => f.length)).toEqual([1396, 1396, 1396, 1396, 1396, 1148]);
    frags.forEach((f, i) => {
      expect((f[4] << 8) | f[5]).toBe(0x1234);
      expect(((f[6] << 8) | f[7]) & 0x1fff).toBe((i * 1376) / 8);
      expect((f[6] & 0x20) !== 0).toBe(i < 5);
    });
  });

  test('byte-identical to scapy fragment(pkt, 1376) (headers, checksums, payload split)', () => {
    expect(fragment(original, { mtuBytes: 1400 }).map(hex)).toEqual(scapyFrags1376.map(hex));
  });

  test('scapy defragment() rebuilds the original from our fragments', () => {
    expect(scapyDefragOfOurs).toBe(hex(original));
  });

  test('a packet ≤ MTU comes back as-is; DF > MTU is a typed error', () => {
    const small = original.slice(0, 20);
    small[2] = 0;
    small[3] = 20;
    expect(fragment(small, { mtuBytes: 1400 })[0]).toBe(small);
    const df = original.slice();
    df[6] |= 0x40;
    expect(() => fragment(df, { mtuBytes: 1400 })).toThrowError(FragmentError);
    expect(() => fragment(df, { mtuBytes: 1400 })).toThrowError(
      expect.objectContaining({ reason: 'df-set' }),
    );
  });

  test('only copy-flag options are repeated in later fragments', () => {
    // 20-byte header + 8 bytes options: NOP, Security-like copied option (0x82 len 3 …), EOL padding; then RR (0x07, not copied)
    const opts = [0x82, 0x03, 0xaa, 0x07, 0x03, 0x04, 0x00, 0x00];
    const pkt = new Uint8Array(28 + 100);
    pkt.set([0x47, 0, 0, 128, 0, 9, 0, 0, 64, 17], 0);
    pkt.set(opts, 20);
    const frags = fragment(pkt, { mtuBytes: 68 });
    expect(frags[0].subarray(20, 28)).toEqual(Uint8Array.from(opts));
    expect(frags[1][0] & 0x0f).toBe(6); // 20 + 4 (0x82 0x03 0xaa + pad)
    expect(hex(frags[1].subarray(20, 24))).toBe('8203aa00');
    const r = reassemble(frags);
    expect(r.ok && hex(r.packet.subarray(28))).toBe(hex(pkt.subarray(28)));
  });
});

describe('reassemble', () => {
  test("scapy's fragment(pkt, 1400), in order, shuffled and with a duplicate → the original", () => {
    const inOrder = reassemble(scapyFrags);
    expect(inOrder.ok && hex(inOrder.packet)).toBe(hex(original));
    const shuffled = [
      scapyFrags[3],
      scapyFrags[0],
      scapyFrags[5],
      scapyFrags[2],
      scapyFrags[2],
      scapyFrags[1],
      scapyFrags[4],
    ];
    const r = reassemble(shuffled);
    expect(r.ok).toBe(true);
    if (r.ok) expect(hex(r.packet)).toBe(hex(original));
    expect(r.findings.map((f) => f.kind)).toEqual(['duplicate']);
    expect(r.fragments.map((f) => f.totalBytes)).toEqual([1420, 1420, 1028, 1420, 1420, 1420, 1420]);
  });

  test('missing middle and last fragments → missing with the holes, no packet', () => {
    const r = reassemble([scapyFrags[0], scapyFrags[2]]);
    expect(r.ok).toBe(false);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0].kind).toBe('missing');
    expect(r.findings[0].holes).toEqual([
      { startByte: 1400, endByte: 2800 },
      { startByte: 4200, endByte: null },
    ]);
  });

  test('overlapping fragments → overlap, no packet', () => {
    const ours = fragment(original, { mtuBytes: 1400 });
    const shifted = ours[1].slice();
    shifted[7] -= 1; // offset − 8 bytes: overlaps fragment 0
    shifted[10] = 0;
    const r = reassemble([ours[0], shifted, ...ours.slice(2)]);
    expect(r.ok).toBe(false);
    expect(r.findings.map((f) => f.kind)).toContain('overlap');
  });

  test('a fragment ending past 65535 → oversize', () => {
    const f = scapyFrags[5].slice();
    f[6] = 0x1f; // offset 0x1f.. × 8 ≈ 65528
    f[7] = 0xff;
    const r = reassemble([scapyFrags[0], f]);
    expect(r.ok).toBe(false);
    expect(r.findings.map((x) => x.kind)).toContain('oversize');
  });

  test('fragments of two datagrams → typed error', () => {
    const other = scapyFrags[1].slice();
    other[5] ^= 1;
    expect(() => reassemble([scapyFrags[0], other])).toThrowError(
      expect.objectContaining({ reason: 'mixed-datagrams' }),
    );
  });
});

describe('Reassembler (streaming, bounded)', () => {
  test('interleaved datagrams, timeout and late duplicate', () => {
    const a = fragment(original, { mtuBytes: 1400 });
    const otherPkt = original.slice();
    otherPkt[5] ^= 0xff; // another ID
    const b = fragment(otherPkt, { mtuBytes: 1400 });
    const r = new Reassembler({ timeoutNs: 1_000_000_000n });
    const events = [];
    let t = 0n;
    for (let i = 0; i < a.length; i++) {
      events.push(...r.push(a[i], t++));
      if (i < 3) events.push(...r.push(b[i], t++)); // b never completes
    }
    events.push(...r.push(a[2], t++)); // late duplicate
    expect(events.filter((e) => e.kind === 'complete')).toHaveLength(1);
    expect(events.find((e) => e.kind === 'failed')?.findings[0].kind).toBe('duplicate');
    expect(r.pending.datagrams).toBe(1);
    const later = r.expire(5_000_000_000n);
    expect(later).toHaveLength(1);
    expect(later[0].findings.map((f) => f.kind)).toEqual(['timeout', 'missing']);
    expect(r.pending).toEqual({ datagrams: 0, bytes: 0 });
  });

  /** The same datagram with another payload in every fragment (same key: src, dst, id, protocol). */
  const sameKeyOther = () => {
    const p = original.slice();
    for (let at = 28 + 50; at < p.length; at += 1376) p[at] ^= 0xff; // UDP checksum: irrelevant here
    return p;
  };
  const reuseOf = (e: { findings: { kind: string; reuse?: unknown }[] }) =>
    e.findings.find((f) => f.kind === 'id-reuse' && f.reuse);

  test('ID reused after completion (Linux: a completed datagram frees its key) → both complete, reuse reported', () => {
    const r = new Reassembler({ timeoutNs: 1_000_000_000n });
    const a = fragment(original, { mtuBytes: 1400 });
    const b = fragment(sameKeyOther(), { mtuBytes: 1400 });
    let t = 0n;
    const events = [...a, ...b].flatMap((f) => r.push(f, (t += 1000n)));
    const complete = events.filter((e) => e.kind === 'complete');
    expect(complete).toHaveLength(2);
    expect(complete[0].kind === 'complete' && complete[0].packet).toEqual(original);
    expect(complete[1].kind === 'complete' && complete[1].packet).toEqual(sameKeyOther());
    expect(reuseOf(complete[0])).toBeUndefined();
    expect(reuseOf(complete[1])).toMatchObject({ reuse: { inFlight: false, gapNs: 1000n } });
    expect(events.filter((e) => e.kind === 'failed')).toHaveLength(0);
  });

  test('a late copy of a fragment is still a duplicate, not a reuse; reuse after the window is not reported', () => {
    const r = new Reassembler({ timeoutNs: 1_000_000_000n });
    const a = fragment(original, { mtuBytes: 1400 });
    for (const [i, f] of a.entries()) r.push(f, BigInt(i));
    const late = r.push(a[3], 10n);
    expect(late.map((e) => [e.kind, e.findings[0].kind])).toEqual([['failed', 'duplicate']]);
    const after = fragment(sameKeyOther(), { mtuBytes: 1400 }).flatMap((f) => r.push(f, 5_000_000_000n));
    expect(after.map((e) => e.kind)).toEqual(['complete']);
    expect(reuseOf(after[0])).toBeUndefined();
  });

  test('two datagrams with one key interleaved → reported as ID reuse in flight, never assembled from both', () => {
    const r = new Reassembler({ timeoutNs: 1_000_000_000n });
    const a = fragment(original, { mtuBytes: 1400 });
    const b = fragment(sameKeyOther(), { mtuBytes: 1400 });
    const events = a.flatMap((f, i) => [...r.push(f, BigInt(2 * i)), ...r.push(b[i], BigInt(2 * i + 1))]);
    events.push(...r.flush(100n));
    const built = events.flatMap((e) => (e.kind === 'complete' ? [e.packet] : []));
    // whatever completes must be one of the two datagrams, byte for byte (here: nothing can)
    for (const p of built) expect([hex(original), hex(sameKeyOther())]).toContain(hex(p));
    expect(built).toHaveLength(0);
    const reuses = events.filter((e) => reuseOf(e));
    expect(reuses.length).toBeGreaterThanOrEqual(1);
    expect(reuseOf(reuses[0])).toMatchObject({ reuse: { inFlight: true } });
    // no fragment of either was called an overlap: the cause is named
    expect(events.flatMap((e) => e.findings.map((f) => f.kind))).not.toContain('overlap');
    expect(r.pending).toEqual({ datagrams: 0, bytes: 0 });
  });

  test('memory bound evicts the oldest datagram with a finding', () => {
    const r = new Reassembler({ maxBytes: 5000 });
    const frags = fragment(original, { mtuBytes: 1400 });
    const evs = frags.slice(0, 5).flatMap((f, i) => r.push(f, BigInt(i)));
    expect(evs.some((e) => e.kind === 'failed' && e.findings[0].kind === 'evicted')).toBe(true);
    expect(r.pending.bytes).toBeLessThanOrEqual(5000);
  });
});

describe('IPsec hop on the wire (REFCHAIN G2)', () => {
  const sa = () =>
    new EspSa({
      spi: 1000,
      key: unhex('a40427262ac0e3d0bdd698d6f7c617ea'),
      salt: unhex('5520f172'),
      tunnelSrc: '172.20.103.1',
      tunnelDst: '172.20.103.2',
      encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 },
      ttl: 64,
    });

  test('libipsec: 8028-byte inner, inner MTU 1400, wire MTU 1400 → 6 ESP packets, 11 frames ≤ 1396 bytes', () => {
    const p = encryptForWire(sa(), original, { innerMtuBytes: 1400, wireMtuBytes: 1400 });
    expect(p.innerPackets.map((x) => x.length)).toEqual([1396, 1396, 1396, 1396, 1396, 1148]);
    expect(p.espPackets).toHaveLength(6);
    expect(p.wireFragments).toHaveLength(11);
    expect(p.wireFragments.map((f) => f.length)).toEqual([
      1396, 84, 1396, 84, 1396, 84, 1396, 84, 1396, 84, 1212,
    ]);
    const back = decryptFromWire(sa(), p.wireFragments);
    expect(back.espPackets).toBe(6);
    expect(back.findings).toEqual([]);
    expect(back.inner.map(hex)).toEqual([hex(original)]);
  });

  test('VPP: 1 ESP packet, fragmented only after encryption', () => {
    const p = encryptForWire(sa(), original, { wireMtuBytes: 1400 });
    expect(p.espPackets).toHaveLength(1);
    expect(p.wireFragments).toHaveLength(6);
    expect(decryptFromWire(sa(), [...p.wireFragments].reverse()).inner.map(hex)).toEqual([hex(original)]);
  });

  test.runIf(requiresTool('tshark', 'tshark reassembles our wire fragments'))(
    'tshark (ip.defragment) reassembles our wire fragments',
    async () => {
      const p = encryptForWire(sa(), original, { innerMtuBytes: 1400, wireMtuBytes: 1400 });
      // minimal pcap, linktype 228 (raw IPv4)
      const parts: Buffer[] = [];
      const gh = Buffer.alloc(24);
      gh.writeUInt32LE(0xa1b2c3d4, 0);
      gh.writeUInt16LE(2, 4);
      gh.writeUInt16LE(4, 6);
      gh.writeUInt32LE(65535, 16);
      gh.writeUInt32LE(228, 20);
      parts.push(gh);
      p.wireFragments.forEach((f, i) => {
        const rh = Buffer.alloc(16);
        rh.writeUInt32LE(1, 0);
        rh.writeUInt32LE(i, 4);
        rh.writeUInt32LE(f.length, 8);
        rh.writeUInt32LE(f.length, 12);
        parts.push(rh, Buffer.from(f));
      });
      const file = join(mkdtempSync(join(tmpdir(), 'cp-frag-')), 'wire.pcap');
      writeFileSync(file, Buffer.concat(parts));
      const r = await execa(
        'tshark',
        [
          '-r',
          file,
          '-o',
          'ip.defragment:TRUE',
          '-Y',
          'udp.port == 4500 && !(ip.flags.mf == 1)',
          '-T',
          'fields',
          '-e',
          'ip.len',
          '-e',
          'udp.length',
        ],
        {
          timeout: 30_000,
        },
      );
      const rows = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      expect(rows).toHaveLength(6);
      expect(rows.map((x) => Number(x[1]))).toEqual([...new Array(5).fill(1440), 1192]);
    },
  );
});
