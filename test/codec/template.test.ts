/**
 * Templates: every patched packet is byte-identical to a from-scratch encode of the same fields (codecs +
 * full checksums), and tshark validates 1000 of them.
 */
import { describe, expect, test } from 'vitest';
import { EncodeError } from '../../src/codec/errors.ts';
import { verifyPayload } from '../../src/codec/probe.ts';
import { dissect, LINKTYPE_ETHERNET, LINKTYPE_IPV4 } from '../../src/codec/stack.ts';
import {
  createIpv4UdpTemplate,
  createVxlanTemplate,
  encodeIpv4UdpPacket,
  encodeVxlanFrame,
} from '../../src/codec/template.ts';
import { writeTempPcap } from '../helpers/classic-pcap.ts';
import { hexOf, tsharkFields } from '../helpers/oracle-tools.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { ipv4UdpSpec, vxlanSpec } from './fixtures.ts';

/** 1000 seqs: the first 500, wrap-around edges, and seeded random ones. */
function seqs(): number[] {
  const rnd = mulberry32(1624);
  const s = Array.from({ length: 500 }, (_, i) => i);
  s.push(65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff);
  while (s.length < 1000) s.push(Math.floor(rnd() * 2 ** 32));
  return s;
}
const timeOf = (seq: number) => 1_700_000_000_000_000_000n + BigInt(seq) * 1_000n;

describe('VXLAN template', () => {
  for (const [payloadBytes, udpChecksum] of [
    [64, false],
    [64, true],
    [8000, true],
    [33, true],
    [65457, true], // the largest that fits an outer IPv4 datagram
  ] as const) {
    test(`${payloadBytes}-byte payload, outer checksum ${udpChecksum}: 1000 patches = from-scratch encodes`, () => {
      const spec = vxlanSpec(payloadBytes, udpChecksum);
      const t = createVxlanTemplate(spec);
      const list = payloadBytes > 8000 ? seqs().slice(495, 510) : seqs();
      for (const seq of list) {
        const frame = t.patch(seq, timeOf(seq));
        expect(frame).toBe(t.frame); // patched in place
        const ref = encodeVxlanFrame(spec, t.fieldsFor(seq, timeOf(seq)));
        if (hexOf(frame) !== hexOf(ref)) expect.fail(`seq ${seq}: patched frame differs from a fresh encode`);
      }
    });
  }

  test('tshark validates 1000 patched frames; IP ids distinct; dissector finds every probe', async () => {
    const t = createVxlanTemplate(vxlanSpec(1200, true));
    const frames = Array.from({ length: 1000 }, (_, i) => t.patch(i, timeOf(i)).slice());
    for (const f of frames) {
      const d = dissect(f, LINKTYPE_ETHERNET);
      expect(verifyPayload(f, d.probeOffset, d.probeLength).ok).toBe(true);
    }
    const rows = await tsharkFields(writeTempPcap(frames, LINKTYPE_ETHERNET), [
      'ip.checksum.status',
      'udp.checksum.status',
      'ip.id',
      'vxlan.vni',
    ]);
    expect(rows).toHaveLength(1000);
    expect(rows.filter(([ip, udp, , vni]) => ip !== '1,1' || udp !== '1,1' || vni !== '100')).toEqual([]);
    expect(new Set(rows.map((r) => r[2])).size).toBe(1000);
  });

  test('spec errors are EncodeErrors', () => {
    expect(() => createVxlanTemplate(vxlanSpec(31))).toThrow(EncodeError);
    expect(() => createVxlanTemplate(vxlanSpec(65458))).toThrow(EncodeError); // outer datagram > 65535
    expect(() =>
      createVxlanTemplate({ ...vxlanSpec(64), outer: { ...vxlanSpec(64).outer, vni: 1 << 24 } }),
    ).toThrow(/vni/);
    expect(() =>
      createVxlanTemplate({
        ...vxlanSpec(64),
        outer: { ...vxlanSpec(64).outer, srcPortBase: 65000, srcPortCount: 1000 },
      }),
    ).toThrow(/65535/);
  });
});

describe('bare IPv4/UDP template', () => {
  for (const withEthernet of [false, true]) {
    test(`${withEthernet ? 'Ethernet' : 'raw IPv4'}: patches = from-scratch encodes, tshark agrees`, async () => {
      const spec = ipv4UdpSpec(8000, withEthernet);
      const t = createIpv4UdpTemplate(spec);
      expect(t.layout.linktype).toBe(withEthernet ? LINKTYPE_ETHERNET : LINKTYPE_IPV4);
      const frames: Uint8Array[] = [];
      for (const seq of seqs().slice(0, 300)) {
        const frame = t.patch(seq, timeOf(seq));
        expect(hexOf(frame)).toBe(hexOf(encodeIpv4UdpPacket(spec, t.fieldsFor(seq, timeOf(seq)))));
        if (frames.length < 50) frames.push(frame.slice());
      }
      const rows = await tsharkFields(writeTempPcap(frames, t.layout.linktype), [
        'ip.checksum.status',
        'udp.checksum.status',
        'ip.id',
        'ip.flags.df',
      ]);
      expect(rows.map((r) => r.slice(0, 2).join(' '))).toEqual(frames.map(() => '1 1'));
      expect(rows[0][2]).toBe(`0x${(1000).toString(16).padStart(4, '0')}`); // ipIdBase + seq 0
      expect(rows[0][3]).toBe('0'); // DF off: the chain may fragment
    });
  }
});
