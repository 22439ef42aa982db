/**
 * EspSa against scapy's SecurityAssociation (an independent ESP implementation): scapy decrypts our raw and
 * NAT-T ESP to the identical inner packet, and we decrypt scapy's. Plus typed errors and secret hygiene.
 */
import { createCipheriv } from 'node:crypto';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { EspError, EspSa, parseCharonKeys } from '../../src/transform/esp-sa.ts';
import { hex, scapy, unhex } from './scapy.ts';

const key = unhex('a40427262ac0e3d0bdd698d6f7c617ea');
const salt = unhex('5520f172');
const base = { spi: 1000, key, salt, tunnelSrc: '172.20.103.1', tunnelDst: '172.20.103.2', ttl: 64 } as const;
const rawSa = () => new EspSa({ ...base, encapsulation: { kind: 'none' } });
const udpSa = () => new EspSa({ ...base, encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 } });

const SCAPY_SA = `
def sa(inp, natt):
    kw = dict(spi=inp['spi'], crypt_algo='AES-GCM', crypt_key=h(inp['key']) + h(inp['salt']),
              tunnel_header=IP(src=inp['src'], dst=inp['dst']))
    if natt:
        kw['nat_t_header'] = UDP(sport=4500, dport=4500)
    return SecurityAssociation(ESP, **kw)
`;

describe('EspSa vs scapy SecurityAssociation', () => {
  let inner: Uint8Array;
  let fromScapy: { raw: string; natt: string };
  let ours: { raw: Uint8Array; natt: Uint8Array };
  let scapyDecrypted: { raw: string; natt: string };

  beforeAll(async () => {
    // the inner packet is built by scapy too (checksums computed there)
    const built = await scapy<{ inner: string; raw: string; natt: string }>(
      `${SCAPY_SA}
def main(inp):
    p = IP(src='10.10.10.5', dst='172.20.102.10', id=4242, ttl=63)/UDP(sport=40000, dport=2055)/Raw(bytes(range(256))*5)
    raw = sa(inp, False).encrypt(p, seq_num=7)
    natt = sa(inp, True).encrypt(p, seq_num=8)
    # scapy 2.5 writes the NAT-T UDP length as 8 (header only); fix that field so the packet is well-formed
    natt = IP(bytes(natt)); esp = bytes(natt[UDP].payload)
    natt = IP(src=inp['src'], dst=inp['dst'], id=natt.id)/UDP(sport=4500, dport=4500, chksum=0)/Raw(esp)
    return dict(inner=bytes(p).hex(), raw=bytes(raw).hex(), natt=bytes(natt).hex())
`,
      { spi: base.spi, key: hex(key), salt: hex(salt), src: base.tunnelSrc, dst: base.tunnelDst },
    );
    inner = unhex(built.inner);
    fromScapy = { raw: built.raw, natt: built.natt };
    ours = { raw: rawSa().encrypt(inner), natt: udpSa().encrypt(inner) };
    scapyDecrypted = await scapy(
      `${SCAPY_SA}
def main(inp):
    raw = sa(inp, False).decrypt(IP(h(inp['raw'])))
    natt = sa(inp, True).decrypt(IP(h(inp['natt'])))
    return dict(raw=bytes(raw).hex(), natt=bytes(natt).hex())
`,
      {
        spi: base.spi,
        key: hex(key),
        salt: hex(salt),
        src: base.tunnelSrc,
        dst: base.tunnelDst,
        raw: hex(ours.raw),
        natt: hex(ours.natt),
      },
    );
  });

  test('scapy decrypts our raw ESP (protocol 50) to the identical inner packet', () => {
    expect(ours.raw[9]).toBe(50);
    expect(scapyDecrypted.raw).toBe(hex(inner));
  });

  test('scapy decrypts our ESP-in-UDP (NAT-T 4500→4500, UDP checksum 0) to the identical inner packet', () => {
    expect(ours.natt[9]).toBe(17);
    expect(hex(ours.natt.subarray(20, 28))).toBe(
      `11941194${(ours.natt.length - 20).toString(16).padStart(4, '0')}0000`,
    );
    expect(scapyDecrypted.natt).toBe(hex(inner));
  });

  test('we decrypt scapy raw ESP', () => {
    const r = rawSa().decrypt(unhex(fromScapy.raw));
    expect(hex(r.inner)).toBe(hex(inner));
    expect(r.seq).toBe(7);
    expect(r.spi).toBe(1000);
  });

  test('we decrypt scapy NAT-T ESP', () => {
    const r = udpSa().decrypt(unhex(fromScapy.natt));
    expect(hex(r.inner)).toBe(hex(inner));
    expect(r.seq).toBe(8);
  });

  test('outer header: tunnel addresses, TTL, no DF, counter IV = seq, seq starts at 1', () => {
    const sa = udpSa();
    const a = sa.encrypt(inner);
    const b = sa.encrypt(inner);
    expect(hex(a.subarray(12, 20))).toBe('ac146701ac146702');
    expect(a[8]).toBe(64);
    expect(a[6] & 0x40).toBe(0);
    expect(hex(a.subarray(28, 44))).toBe('000003e8000000010000000000000001');
    expect(hex(b.subarray(28, 44))).toBe('000003e8000000020000000000000002');
    expect(sa.outerLength(inner.length)).toBe(a.length);
  });

  test('tampered ciphertext or ICV → auth-failed', () => {
    for (const at of [60, -1]) {
      const bad = udpSa().encrypt(inner).slice();
      bad[at < 0 ? bad.length + at : at] ^= 0x80;
      expect(() => udpSa().decrypt(bad)).toThrowError(
        expect.objectContaining({ name: 'EspError', reason: 'auth-failed' }),
      );
    }
  });

  test('wrong SPI, wrong key, wrong encapsulation, fragments, garbage → typed EspError, never a crash', () => {
    const other = new EspSa({
      ...base,
      spi: 1001,
      encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 },
    });
    const pkt = udpSa().encrypt(inner);
    expect(() => other.decrypt(pkt)).toThrowError(expect.objectContaining({ reason: 'wrong-spi' }));
    const wrongKey = new EspSa({
      ...base,
      key: new Uint8Array(16),
      encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 },
    });
    expect(() => wrongKey.decrypt(pkt)).toThrowError(expect.objectContaining({ reason: 'auth-failed' }));
    expect(() => rawSa().decrypt(pkt)).toThrowError(
      expect.objectContaining({ reason: 'wrong-encapsulation' }),
    );
    const frag = pkt.slice();
    frag[6] = 0x20;
    expect(() => udpSa().decrypt(frag)).toThrowError(expect.objectContaining({ reason: 'fragmented' }));
    for (const junk of [
      new Uint8Array(0),
      new Uint8Array(10),
      pkt.subarray(0, 40),
      Uint8Array.from([0x45, ...new Array(40).fill(0)]),
    ]) {
      let err: unknown;
      try {
        udpSa().decrypt(junk);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EspError);
    }
  });

  test('RFC 4303 padding is checked after authentication', () => {
    const sa = rawSa();
    // an authentic ESP packet whose trailer says "2 pad bytes" but the pad bytes are 7, 7 (not 1, 2)
    const header = unhex('000003e8000000010000000000000001');
    const c = createCipheriv('aes-128-gcm', key, Buffer.concat([salt, header.subarray(8)]));
    c.setAAD(header.subarray(0, 8));
    const ct = Buffer.concat([c.update(Uint8Array.from([1, 2, 3, 4, 7, 7, 2, 4])), c.final()]);
    const esp = Buffer.concat([header, ct, c.getAuthTag()]);
    expect(() => sa.open(esp)).toThrowError(expect.objectContaining({ reason: 'bad-padding' }));
  });
});

describe('secrets stay secret', () => {
  test('JSON.stringify, util.inspect, toString and error messages of an SA contain no key or salt hex', () => {
    const sa = udpSa();
    const texts = [
      JSON.stringify(sa),
      inspect(sa, { showHidden: true, depth: 10 }),
      String(sa),
      `${sa}`,
      JSON.stringify({ sa }),
    ];
    const pkt = sa.encrypt(Uint8Array.from([0x45, 0, 0, 20, ...new Array(16).fill(0)]));
    pkt[pkt.length - 1] ^= 1;
    try {
      sa.decrypt(pkt);
    } catch (e) {
      texts.push((e as Error).message, inspect(e), JSON.stringify(e));
    }
    for (const t of texts) {
      expect(t.toLowerCase()).not.toContain(hex(key));
      expect(t.toLowerCase()).not.toContain(hex(salt));
      expect(t).not.toContain(hex(key).toUpperCase().match(/../g)?.join(' ') ?? '');
    }
    expect(JSON.stringify(sa)).toContain('<redacted>');
  });
});

describe('parseCharonKeys', () => {
  const log = `
Nov 21 19:20:01 09[IKE] initiating IKE_SA net[1] to 172.20.103.2
Nov 21 19:20:01 10[CHD] encryption initiator key => 20 bytes @ 0x7f3c2c003a10
Nov 21 19:20:01 10[CHD]    0: A4 04 27 26 2A C0 E3 D0 BD D6 98 D6 F7 C6 17 EA  ..'&*...........
Nov 21 19:20:01 10[CHD]   16: 55 20 F1 72                                      U .r
Nov 21 19:20:01 10[CHD] encryption responder key => 20 bytes @ 0x7f3c2c003b20
Nov 21 19:20:01 10[CHD]    0: 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF  .."3DUfw........
Nov 21 19:20:01 10[CHD]   16: 01 02 03 04                                      ....
Nov 21 19:20:01 10[IKE] CHILD_SA net{1} established with SPIs 000003e9_i 000003e8_o and TS 10.10.10.0/24 === 172.20.102.0/24
`;

  test('initiator log: outbound SPI gets the initiator key, inbound the responder key', () => {
    const keys = parseCharonKeys(log);
    expect(keys).toHaveLength(2);
    const out = keys.find((k) => k.spi === 0x3e8);
    const inn = keys.find((k) => k.spi === 0x3e9);
    expect(out?.local).toBe('out');
    expect(out?.direction).toBe('initiator-to-responder');
    expect(hex(out?.key ?? new Uint8Array())).toBe('a40427262ac0e3d0bdd698d6f7c617ea');
    expect(hex(out?.salt ?? new Uint8Array())).toBe('5520f172');
    expect(inn?.direction).toBe('responder-to-initiator');
    expect(hex(inn?.key ?? new Uint8Array())).toBe('00112233445566778899aabbccddeeff');
    expect(JSON.stringify(keys)).not.toContain('a404');
    expect(inspect(keys)).not.toMatch(/A4 04|a404|164/);
    // the parsed key drives a working SA
    const sa = new EspSa({
      ...base,
      spi: out?.spi ?? 0,
      key: out?.key ?? key,
      salt: out?.salt ?? salt,
      encapsulation: { kind: 'none' },
    });
    expect(sa.decrypt(rawSa().encrypt(Uint8Array.from([0x45, 0, 0, 20, ...new Array(16).fill(0)]))).spi).toBe(
      1000,
    );
  });

  test('responder log (or explicit role) maps the other way; unknown role is a typed error', () => {
    const responder = parseCharonKeys(log.replace('initiating IKE_SA net[1] to', 'x'), { role: 'responder' });
    expect(responder.find((k) => k.spi === 0x3e9)?.direction).toBe('initiator-to-responder');
    expect(() => parseCharonKeys(log.replace('initiating IKE_SA net[1] to', 'x'))).toThrowError(
      expect.objectContaining({ code: 'E_CHARON_KEYS' }),
    );
  });
});
