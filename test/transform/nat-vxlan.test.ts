/**
 * NAT44 and VXLAN decap against scapy: scapy recomputes the checksums of our rewritten packets from scratch
 * (del chksum) and must get the values our incremental (RFC 1624) updates produced.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { fragment } from '../../src/transform/fragment.ts';
import { dnat44, dnat44InPlace, snat44 } from '../../src/transform/nat44.ts';
import { ttlDecrement, vxlanDecap } from '../../src/transform/vxlan-decap.ts';
import { hex, scapy, unhex } from './scapy.ts';

const dnatRule = {
  match: { dstIp: '10.10.10.10', dstPort: 2055 },
  rewrite: { dstIp: '172.20.102.10', dstPort: 2055 },
};
const dnatPortRule = {
  match: { dstIp: '10.10.10.10', dstPort: 2055 },
  rewrite: { dstIp: '172.20.102.10', dstPort: 9995 },
};

let pkts: { udp: string; udpZero: string; tcp: string; vxlanIp: string; vxlanEth: string; inner: string };

beforeAll(async () => {
  pkts = await scapy(
    `
def main(inp):
    udp = IP(src='10.10.10.5', dst='10.10.10.10', id=77)/UDP(sport=40000, dport=2055)/Raw(b'probe' * 41)
    udpz = IP(src='10.10.10.5', dst='10.10.10.10', id=78)/UDP(sport=40000, dport=2055, chksum=0)/Raw(b'zero' * 10)
    tcp = IP(src='10.10.10.5', dst='10.10.10.10', id=79)/TCP(sport=40000, dport=2055, flags='S')/Raw(b'tcp')
    inner = Ether(src='02:00:00:00:00:05', dst='02:00:00:0a:0a:01')/IP(src='10.10.10.5', dst='10.10.10.10', ttl=64)/UDP(sport=40000, dport=2055)/Raw(b'x' * 100)
    vx = IP(src='172.20.100.1', dst='172.20.100.10')/UDP(sport=50000, dport=4789)/VXLAN(vni=100, flags=0x08)/inner
    eth = Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/vx
    return dict(udp=bytes(udp).hex(), udpZero=bytes(udpz).hex(), tcp=bytes(tcp).hex(), vxlanIp=bytes(vx).hex(),
                vxlanEth=bytes(eth).hex(), inner=bytes(inner).hex())
`,
    {},
  );
});

const RECOMPUTE = `
def main(inp):
    out = []
    for x in inp['pkts']:
        p = IP(h(x))
        del p.chksum
        if UDP in p and p[UDP].chksum != 0:
            del p[UDP].chksum
        if TCP in p:
            del p[TCP].chksum
        out.append(bytes(p).hex())
    return out
`;

describe('NAT44', () => {
  test('DNAT (address; address + port), SNAT, TCP: checksums equal scapy recomputation', async () => {
    const rewritten = [
      dnat44(unhex(pkts.udp), dnatRule),
      dnat44(unhex(pkts.udp), dnatPortRule),
      snat44(unhex(pkts.udp), {
        match: { srcIp: '10.10.10.5' },
        rewrite: { srcIp: '192.0.2.77', srcPort: 1234 },
      }),
      dnat44(unhex(pkts.tcp), dnatPortRule),
    ];
    expect(hex(rewritten[0].subarray(16, 20))).toBe('ac14660a');
    expect(hex(rewritten[1].subarray(22, 24))).toBe((9995).toString(16).padStart(4, '0'));
    expect(hex(rewritten[2].subarray(12, 16))).toBe('c000024d');
    const scapyView = await scapy<string[]>(RECOMPUTE, { pkts: rewritten.map(hex) });
    expect(scapyView).toEqual(rewritten.map(hex));
  });

  test('a zero UDP checksum stays zero', async () => {
    const r = dnat44(unhex(pkts.udpZero), dnatRule);
    expect(hex(r.subarray(26, 28))).toBe('0000');
    expect(await scapy<string[]>(RECOMPUTE, { pkts: [hex(r)] })).toEqual([hex(r)]);
  });

  test('no match → the same object, untouched; in-place variant reports false', () => {
    const p = unhex(pkts.udp);
    expect(dnat44(p, { ...dnatRule, match: { dstIp: '10.10.10.10', dstPort: 53 } })).toBe(p);
    expect(dnat44InPlace(p, { ...dnatRule, match: { dstIp: '10.9.9.9' } })).toBe(false);
  });

  test('fragments: first gets ports, later ones address only; reassembled result equals DNAT of the whole', async () => {
    const big = unhex(pkts.udp);
    const frags = fragment(big, { mtuBytes: 100 });
    expect(frags.length).toBeGreaterThan(2);
    const natted = frags.map((f) => dnat44(f, dnatPortRule));
    for (const f of natted) expect(hex(f.subarray(16, 20))).toBe('ac14660a');
    const whole = dnat44(big, dnatPortRule);
    const { reassemble } = await import('../../src/transform/fragment.ts');
    const r = reassemble(natted);
    expect(r.ok && hex(r.packet)).toBe(hex(whole));
    // every fragment's header checksum is valid per scapy
    expect(
      await scapy<string[]>(
        RECOMPUTE.replace('if UDP in p and', 'if False and').replace('if TCP in p', 'if False'),
        { pkts: natted.map(hex) },
      ),
    ).toEqual(natted.map(hex));
  });
});

describe('VXLAN decap and routed hop', () => {
  test('from outer IPv4 and from the Ethernet frame: views of inner frame and inner IP', () => {
    for (const input of [pkts.vxlanIp, pkts.vxlanEth]) {
      const r = vxlanDecap(unhex(input), { vni: 100 });
      expect(r.vni).toBe(100);
      expect(hex(r.innerFrame)).toBe(pkts.inner);
      expect(hex(r.innerIp ?? new Uint8Array())).toBe(pkts.inner.slice(28));
    }
  });

  test('wrong VNI, missing I flag, not VXLAN → typed errors', () => {
    expect(() => vxlanDecap(unhex(pkts.vxlanIp), { vni: 101 })).toThrowError(
      expect.objectContaining({ name: 'VxlanError', reason: 'wrong-vni' }),
    );
    const noI = unhex(pkts.vxlanIp);
    noI[28] = 0;
    expect(() => vxlanDecap(noI, { vni: 100 })).toThrowError(
      expect.objectContaining({ reason: 'bad-flags' }),
    );
    expect(() => vxlanDecap(unhex(pkts.udp), { vni: 100 })).toThrowError(
      expect.objectContaining({ reason: 'not-vxlan' }),
    );
    expect(() => vxlanDecap(new Uint8Array(5), { vni: 100 })).toThrowError(
      expect.objectContaining({ name: 'VxlanError' }),
    );
  });

  test('a malformed inner IPv4 header (IHL below 5, total length past the frame) → truncated, naming it', () => {
    const innerAt = 20 + 8 + 8 + 14; // outer IPv4, UDP, VXLAN, inner Ethernet
    const badIhl = unhex(pkts.vxlanIp);
    badIhl[innerAt] = 0x44;
    expect(() => vxlanDecap(badIhl, { vni: 100 })).toThrowError(
      expect.objectContaining({
        reason: 'truncated',
        message: expect.stringMatching(/vxlan-inner-ipv4.*IHL 4/),
      }),
    );
    const long = unhex(pkts.vxlanIp);
    long[innerAt + 2] = 0xff;
    expect(() => vxlanDecap(long, { vni: 100 })).toThrowError(
      expect.objectContaining({
        reason: 'truncated',
        message: expect.stringMatching(/total length \d+ exceeds/),
      }),
    );
  });

  test('ttlDecrement: TTL − 1 with a checksum equal to scapy recomputation; TTL 1 → ttl-expired', async () => {
    const inner = vxlanDecap(unhex(pkts.vxlanIp), { vni: 100 }).innerIp as Uint8Array;
    const routed = ttlDecrement(inner);
    expect(routed[8]).toBe(63);
    expect(inner[8]).toBe(64);
    expect(await scapy<string[]>(RECOMPUTE, { pkts: [hex(routed)] })).toEqual([hex(routed)]);
    const one = inner.slice();
    one[8] = 1;
    expect(() => ttlDecrement(one)).toThrowError(expect.objectContaining({ reason: 'ttl-expired' }));
  });
});
