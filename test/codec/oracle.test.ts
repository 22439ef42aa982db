/**
 * Independent oracles: tshark and scapy dissect our frames; our dissector dissects scapy's frames
 * (including a probe header built in Python with struct + zlib.crc32 from the layout documented in probe.ts).
 */
import { describe, expect, test } from 'vitest';
import { ipv4ToString } from '../../src/codec/address.ts';
import { readU16, readU24, readU32 } from '../../src/codec/bytes.ts';
import { readProbe, verifyPayload } from '../../src/codec/probe.ts';
import {
  dissect,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
} from '../../src/codec/stack.ts';
import { createVxlanTemplate } from '../../src/codec/template.ts';
import { writeTempPcap } from '../helpers/classic-pcap.ts';
import { fromHex, hexOf, scapy, tsharkFields } from '../helpers/oracle-tools.ts';
import { vxlanSpec } from './fixtures.ts';

// Wireshark's checksum status field: 0 bad, 1 good, 2 unverified, 3 not present.
const GOOD = '1';

describe('tshark dissects our VXLAN frames', () => {
  for (const payloadBytes of [64, 8000]) {
    for (const udpChecksum of [false, true]) {
      test(`${payloadBytes}-byte payload, outer UDP checksum ${udpChecksum ? 'on' : 'zero'}`, async () => {
        const t = createVxlanTemplate(vxlanSpec(payloadBytes, udpChecksum));
        const frames = [1, 2, 999].map((seq) => t.patch(seq, 1_000_000n * BigInt(seq)).slice());
        const rows = await tsharkFields(writeTempPcap(frames, LINKTYPE_ETHERNET), [
          'frame.protocols',
          'vxlan.vni',
          'vxlan.flags',
          'ip.src',
          'ip.dst',
          'udp.srcport',
          'udp.dstport',
          'ip.id',
          'ip.checksum.status',
          'udp.checksum.status',
          'udp.length',
        ]);
        expect(rows).toHaveLength(3);
        rows.forEach(([protocols, vni, flags, src, dst, sport, dport, id, ipCk, udpCk, udpLen], i) => {
          const seq = [1, 2, 999][i];
          expect(protocols).toBe('eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:udp:data');
          expect(vni).toBe('100');
          expect(flags).toBe('0x0800'); // tshark shows the 16-bit flags word: I set, nothing else
          expect(src).toBe('192.168.100.1,10.10.10.5');
          expect(dst).toBe('192.168.100.2,172.20.0.10');
          expect(sport).toBe(`${50000 + seq},40000`);
          expect(dport).toBe('4789,5001');
          expect(id).toBe(`0x${seq.toString(16).padStart(4, '0')},0x${seq.toString(16).padStart(4, '0')}`);
          expect(ipCk).toBe(`${GOOD},${GOOD}`);
          // A zero outer checksum is "not present" (3) in tshark; the inner one is always computed.
          expect(udpCk).toBe(`${udpChecksum ? GOOD : '3'},${GOOD}`);
          expect(udpLen).toBe(`${payloadBytes + 58},${payloadBytes + 8}`);
        });
      });
    }
  }

  test('the same check fails on a corrupted frame (the oracle can say no)', async () => {
    const f = createVxlanTemplate(vxlanSpec(64, true)).patch(5, 5n).slice();
    f[f.length - 1] ^= 0xff; // payload byte: both UDP checksums break, IP headers stay good
    f[14 + 10] ^= 0x01; // outer IP checksum
    const [[ipCk, udpCk]] = await tsharkFields(writeTempPcap([f], LINKTYPE_ETHERNET), [
      'ip.checksum.status',
      'udp.checksum.status',
    ]);
    expect(ipCk).toBe(`0,${GOOD}`);
    expect(udpCk).toBe('0,0');
  });
});

describe('scapy dissects our frames', () => {
  test('VXLAN fields, recomputed checksums, probe CRC via zlib', async () => {
    const frames = [64, 8000].flatMap((n) => {
      const t = createVxlanTemplate(vxlanSpec(n, true));
      return [t.patch(7, 123n).slice(), t.patch(0xfffffffe, 2n ** 64n - 1n).slice()];
    });
    const out = await scapy(
      `
import sys, zlib, struct
for line in sys.stdin.read().split():
    p = Ether(bytes.fromhex(line))
    vx = p[VXLAN]
    outer, inner = p[IP], vx[IP]
    ou, iu = p[UDP], vx[UDP]
    def recomputed(layer, field):
        c = layer.copy(); setattr(c, field, None); return getattr(layer.__class__(bytes(c)), field)
    payload = bytes(iu.payload)
    magic, ver, hl, plen, run, flow, seq, tx, crc = struct.unpack('!IBBHIIIQI', payload[:32])
    print(int(vx.flags), vx.vni, outer.chksum == recomputed(outer, 'chksum'), inner.chksum == recomputed(inner, 'chksum'),
          ou.chksum == recomputed(ou, 'chksum'), iu.chksum == recomputed(iu, 'chksum'), inner.src, inner.dst, iu.dport,
          hex(magic), plen == len(payload), run, seq, tx, crc == zlib.crc32(payload[:28]))
`,
      frames.map(hexOf).join('\n'),
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(4);
    const runId = String(0x1234abcd);
    expect(lines[0]).toBe(
      `8 100 True True True True 10.10.10.5 172.20.0.10 5001 0x43505242 True ${runId} 7 123 True`,
    );
    expect(lines[1]).toBe(
      `8 100 True True True True 10.10.10.5 172.20.0.10 5001 0x43505242 True ${runId} 4294967294 18446744073709551615 True`,
    );
    expect(lines[2]).toBe(lines[0]);
    expect(lines[3]).toBe(lines[1]);
  });
});

describe('our dissector reads scapy-built frames', () => {
  // A probe header built independently in Python, from the layout documented in probe.ts.
  const PY_PROBE = `
import zlib, struct
def probe_header(run, flow, seq, tx, plen):
    h = struct.pack('!IBBHIIIQ', 0x43505242, 1, 32, plen, run, flow, seq, tx)
    return h + struct.pack('!I', zlib.crc32(h))
`;
  async function scapyFrames(script: string): Promise<Record<string, Uint8Array>> {
    const out = await scapy(
      `${PY_PROBE}\nframes = {}\n${script}\nfor k, v in frames.items(): print(k, bytes(v).hex())`,
    );
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([k, h]) => [k, fromHex(h)]),
    );
  }

  test('VXLAN, 802.1Q, SLL, SLL2, ESP, ESP-in-UDP, IKE, keepalive, fragments', async () => {
    const f = await scapyFrames(`
inner = Ether(src='02:00:00:0a:0a:01', dst='02:00:00:0a:0a:02')/IP(src='10.10.10.5', dst='172.20.0.10', id=42)/UDP(sport=40000, dport=5001)/Raw(probe_header(5, 6, 77, 88, 32))
frames['vxlan'] = Ether()/IP(src='192.168.100.1', dst='192.168.100.2')/UDP(sport=50001, dport=4789)/VXLAN(flags=0x08, vni=100)/inner
frames['dot1q'] = Ether()/Dot1Q(vlan=10, prio=3)/IP(src='10.1.1.1', dst='10.1.1.2')/UDP(sport=1, dport=2)/Raw(probe_header(1, 2, 3, 4, 32))
frames['qinq'] = Ether()/Dot1AD(vlan=20)/Dot1Q(vlan=10)/IP()/UDP(sport=1, dport=2)/Raw(b'hello')
frames['sll'] = CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b'\\x02\\x00\\x00\\x00\\x00\\x01\\x00\\x00', proto=0x0800)/IP(src='10.2.2.2', dst='10.3.3.3')/UDP(sport=5, dport=6)/Raw(probe_header(9, 9, 9, 9, 32))
frames['sll2'] = CookedLinuxV2(proto=0x0800, ifindex=3, lladdrtype=1, pkttype=0, lladdrlen=6, src=b'\\x02\\x00\\x00\\x00\\x00\\x01\\x00\\x00')/IP(src='10.2.2.2', dst='10.3.3.3')/UDP(sport=5, dport=6)/Raw(b'x' * 10)
frames['esp'] = Ether()/IP(src='1.1.1.1', dst='2.2.2.2', proto=50)/ESP(spi=0x1001, seq=9)/Raw(b'\\xaa' * 40)
frames['natt'] = Ether()/IP()/UDP(sport=4500, dport=4500)/ESP(spi=0x2002, seq=10)/Raw(b'\\xbb' * 40)
frames['ike'] = Ether()/IP()/UDP(sport=4500, dport=4500)/Raw(b'\\x00\\x00\\x00\\x00' + b'\\x01' * 28)
frames['keepalive'] = Ether()/IP()/UDP(sport=4500, dport=4500)/Raw(b'\\xff')
big = IP(src='10.10.10.5', dst='172.20.0.10', id=7)/UDP(sport=40000, dport=5001)/Raw(probe_header(1, 1, 1, 1, 3000) + b'\\x00' * 2968)
fr = fragment(big, fragsize=1400)
frames['frag0'] = fr[0]
frames['frag1'] = fr[1]
frames['padded'] = Ether()/IP(src='10.0.0.1', dst='10.0.0.2')/UDP(sport=7, dport=8)/Raw(b'ab')/Padding(b'\\x00' * 14)
`);
    const d = dissect(f.vxlan, LINKTYPE_ETHERNET);
    expect(d.names()).toEqual(['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'udp', 'probe']);
    expect(readU24(f.vxlan, d.vxlanOffset + 4)).toBe(100);
    expect(ipv4ToString(readU32(f.vxlan, d.outerIpv4Offset + 12))).toBe('192.168.100.1');
    expect(ipv4ToString(readU32(f.vxlan, d.ipv4Offset + 12))).toBe('10.10.10.5');
    expect(readU16(f.vxlan, d.udpOffset + 2)).toBe(5001);
    expect(d.probeStatus).toBe('ok');
    expect(readProbe(f.vxlan, d.probeOffset)).toEqual({
      runId: 5,
      flowId: 6,
      seq: 77,
      txTimeNs: 88n,
      payloadBytes: 32,
    });

    const q = dissect(f.dot1q, LINKTYPE_ETHERNET);
    expect(q.names()).toEqual(['ethernet', 'vlan', 'ipv4', 'udp', 'probe']);
    expect(readU16(f.dot1q, q.offset[1]) & 0xfff).toBe(10);
    expect(readProbe(f.dot1q, q.probeOffset).seq).toBe(3);
    expect(dissect(f.qinq, LINKTYPE_ETHERNET).names()).toEqual([
      'ethernet',
      'vlan',
      'vlan',
      'ipv4',
      'udp',
      'payload',
    ]);

    const s = dissect(f.sll, LINKTYPE_LINUX_SLL);
    expect(s.names()).toEqual(['sll', 'ipv4', 'udp', 'probe']);
    expect(ipv4ToString(readU32(f.sll, s.ipv4Offset + 16))).toBe('10.3.3.3');
    expect(dissect(f.sll2, LINKTYPE_LINUX_SLL2).names()).toEqual(['sll2', 'ipv4', 'udp', 'payload']);

    const e = dissect(f.esp, LINKTYPE_ETHERNET);
    expect(e.names()).toEqual(['ethernet', 'ipv4', 'esp']);
    expect(e.stop).toBe('esp');
    expect(readU32(f.esp, e.espOffset)).toBe(0x1001);
    expect(e.length[2]).toBe(48);
    const n = dissect(f.natt, LINKTYPE_ETHERNET);
    expect(n.names()).toEqual(['ethernet', 'ipv4', 'udp', 'esp']);
    expect(readU32(f.natt, n.espOffset + 4)).toBe(10);
    expect(dissect(f.ike, LINKTYPE_ETHERNET).names()).toEqual(['ethernet', 'ipv4', 'udp', 'ike']);
    expect(dissect(f.keepalive, LINKTYPE_ETHERNET).names()).toEqual(['ethernet', 'ipv4', 'udp', 'keepalive']);

    const f0 = dissect(f.frag0, LINKTYPE_IPV4);
    expect(f0.names()).toEqual(['ipv4', 'udp', 'payload']);
    expect([f0.fragment, f0.stop, f0.probeOffset]).toEqual([true, 'fragment', -1]);
    const f1 = dissect(f.frag1, LINKTYPE_IPV4);
    expect(f1.names()).toEqual(['ipv4', 'payload']);
    expect([f1.fragment, f1.stop, f1.udpOffset]).toEqual([true, 'fragment', -1]);

    // Ethernet padding after the IP datagram is not payload.
    const p = dissect(f.padded, LINKTYPE_ETHERNET);
    expect(p.length[p.count - 1]).toBe(2);
  });

  test('a probe with padding crafted by us, but headers by scapy, verifies', async () => {
    const t = createVxlanTemplate(vxlanSpec(500));
    const ours = t.patch(12, 34n).slice();
    // scapy re-serialises the whole frame (recomputing nothing: fields are parsed, then rebuilt).
    const out = await scapy(
      'import sys\nprint(bytes(Ether(bytes.fromhex(sys.stdin.read().strip()))).hex())',
      hexOf(ours),
    );
    const rebuilt = fromHex(out);
    expect(hexOf(rebuilt)).toBe(hexOf(ours));
    const d = dissect(rebuilt, LINKTYPE_ETHERNET);
    expect(verifyPayload(rebuilt, d.probeOffset, d.probeLength)).toEqual({ ok: true });
  });
});
