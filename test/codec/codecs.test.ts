/**
 * Every codec through the same generic checks (STYLE.md A3), then known byte vectors written down from
 * RFCs / Wireshark, and the typed errors.
 */
import { describe, expect, test } from 'vitest';
import { ipv4ToString, macToString, parseIpv4, parseMac } from '../../src/codec/address.ts';
import { type Codec, encodeToBytes } from '../../src/codec/codec.ts';
import { DecodeError, EncodeError } from '../../src/codec/errors.ts';
import { esp, natt } from '../../src/codec/esp.ts';
import { ethernet } from '../../src/codec/ethernet.ts';
import { ipv4, ipv4ChecksumOk } from '../../src/codec/ipv4.ts';
import { crc32, probe, verifyPayload } from '../../src/codec/probe.ts';
import { sll, sll2 } from '../../src/codec/sll.ts';
import { udp } from '../../src/codec/udp.ts';
import { vxlan } from '../../src/codec/vxlan.ts';
import { fromHex, hexOf } from '../helpers/oracle-tools.ts';

/** encodingLength, encode → decode → re-encode, decode from a foreign buffer at offset 10, truncation. */
function exercise<T>(codec: Codec<T>, value: T, opaqueTail = false): Uint8Array {
  const n = codec.encodingLength(value);
  const bytes = encodeToBytes(codec, value);
  expect(bytes.length).toBe(n);
  const d = codec.decode(bytes);
  expect(d.bytesRead).toBe(n);
  expect(codec.encodingLength(d.value)).toBe(n);
  expect(hexOf(encodeToBytes(codec, d.value))).toBe(hexOf(bytes));
  // Foreign buffer: garbage before and (unless the layer runs to the end of its buffer) after.
  const foreign = new Uint8Array(10 + n + (opaqueTail ? 0 : 7)).fill(0xa5);
  expect(codec.encode(value, foreign, 10)).toBe(n);
  expect(foreign[9]).toBe(0xa5);
  const d2 = codec.decode(foreign, 10);
  expect(d2.bytesRead).toBe(n);
  expect(hexOf(encodeToBytes(codec, d2.value))).toBe(hexOf(bytes));
  // Every truncation of the encoding is a DecodeError naming the layer, never anything else.
  for (let cut = 0; cut < n; cut++) {
    try {
      codec.decode(bytes.subarray(0, cut));
      if (!opaqueTail) expect.fail(`${codec.name}: decoding ${cut} of ${n} bytes succeeded`);
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).layer).toBeTypeOf('string');
    }
  }
  // A too-small target buffer is an EncodeError.
  expect(() => codec.encode(value, new Uint8Array(n - 1), 0)).toThrow(EncodeError);
  return bytes;
}

describe('every codec, identically', () => {
  test('ethernet, untagged and 802.1Q', () => {
    exercise(ethernet, {
      dst: parseMac('ff:ff:ff:ff:ff:ff'),
      src: parseMac('02:00:00:0a:0a:01'),
      etherType: 0x0800,
    });
    exercise(ethernet, {
      dst: 1,
      src: 2,
      vlan: { tpid: 0x8100, pcp: 5, dei: true, vid: 4094 },
      etherType: 0x0800,
    });
  });
  test('ipv4, with and without options, fragments', () => {
    const base = {
      dscp: 46,
      ecn: 1,
      totalLength: 1500,
      id: 0xbeef,
      dontFragment: false,
      moreFragments: true,
      fragmentOffsetBytes: 1480,
      ttl: 1,
      protocol: 17,
      src: parseIpv4('10.0.0.1'),
      dst: parseIpv4('255.255.255.255'),
    };
    const b = exercise(ipv4, base);
    expect(ipv4ChecksumOk(b, 0)).toBe(true);
    exercise(ipv4, { ...base, options: fromHex('94040000'), reservedFlag: true }); // router alert
    exercise(ipv4, { ...base, checksum: 0x1234 });
  });
  test('udp', () => exercise(udp, { srcPort: 50000, dstPort: 4789, length: 122, checksum: 0 }));
  test('vxlan', () => exercise(vxlan, { flags: 0x08, vni: 0xffffff }));
  test('esp and esp-in-udp', () => {
    exercise(esp, { spi: 0xc0ffee, seq: 1, data: fromHex('00112233445566778899') }, true);
    exercise(natt, { kind: 'esp', esp: { spi: 0x1000, seq: 7, data: new Uint8Array(40) } }, true);
    exercise(natt, { kind: 'ike', message: fromHex('deadbeef0001') }, true);
    exercise(natt, { kind: 'keepalive' }, true);
  });
  test('sll and sll2', () => {
    exercise(sll, { packetType: 4, arphrdType: 1, address: fromHex('020000000001'), protocol: 0x0800 });
    exercise(sll2, {
      protocol: 0x0800,
      interfaceIndex: 7,
      arphrdType: 1,
      packetType: 0,
      address: fromHex('020000000002'),
      reserved: 0,
    });
  });
  test('probe, 32 to 65507 bytes', () => {
    for (const payloadBytes of [32, 35, 36, 64, 99, 1400, 8000]) {
      const b = exercise(probe, {
        runId: 0xdeadbeef,
        flowId: 3,
        seq: 0xfffffffe,
        txTimeNs: 0xfedcba9876543210n,
        payloadBytes,
      });
      expect(verifyPayload(b, 0, b.length)).toEqual({ ok: true });
    }
    const big = encodeToBytes(probe, { runId: 1, flowId: 1, seq: 1, txTimeNs: 1n, payloadBytes: 65507 });
    expect(verifyPayload(big, 0, 65507).ok).toBe(true);
  });
});

describe('known byte vectors', () => {
  test('IPv4 header checksum (the classic 0xb861 example)', () => {
    const b = encodeToBytes(ipv4, {
      dscp: 0,
      ecn: 0,
      totalLength: 0x73,
      id: 0,
      dontFragment: true,
      moreFragments: false,
      fragmentOffsetBytes: 0,
      ttl: 64,
      protocol: 17,
      src: parseIpv4('192.168.0.1'),
      dst: parseIpv4('192.168.0.199'),
    });
    expect(hexOf(b)).toBe('450000730000400040 11b861c0a80001c0a800c7'.replace(/ /g, ''));
  });
  test('VXLAN VNI 100 with the I flag (RFC 7348 §5)', () => {
    expect(hexOf(encodeToBytes(vxlan, { flags: 0x08, vni: 100 }))).toBe('0800000000006400');
  });
  test('802.1Q tag: PCP 3, VID 100', () => {
    expect(
      hexOf(
        encodeToBytes(ethernet, {
          dst: 0xffffffffffff,
          src: 0x020000000001,
          vlan: { tpid: 0x8100, pcp: 3, dei: false, vid: 100 },
          etherType: 0x0800,
        }),
      ),
    ).toBe('ffffffffffff020000000001810060640800');
  });
  test('SLL header as tcpdump -i any writes an outgoing IPv4 packet', () => {
    expect(
      hexOf(
        encodeToBytes(sll, {
          packetType: 4,
          arphrdType: 1,
          address: fromHex('020000000001'),
          protocol: 0x0800,
        }),
      ),
    ).toBe('0004000100060200000000010000' + '0800');
  });
  test('probe header layout and CRC-32 (zlib check value)', () => {
    expect(crc32(new TextEncoder().encode('123456789'), 0, 9)).toBe(0xcbf43926);
    const b = encodeToBytes(probe, { runId: 1, flowId: 2, seq: 3, txTimeNs: 4n, payloadBytes: 40 });
    expect(hexOf(b.subarray(0, 28))).toBe(
      '43505242' + '01' + '20' + '0028' + '00000001' + '00000002' + '00000003' + '0000000000000004',
    );
    expect(hexOf(b.subarray(32, 36))).toBe('00000003'); // first seq stamp
  });
  test('address helpers', () => {
    expect(ipv4ToString(parseIpv4('10.10.10.5'))).toBe('10.10.10.5');
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(macToString(parseMac('02:00:00:0A:0a:01'))).toBe('02:00:00:0a:0a:01');
    expect(() => parseIpv4('10.0.0.256')).toThrow(EncodeError);
    expect(() => parseMac('02:00:00:0a:0a')).toThrow(EncodeError);
  });
});

describe('typed errors', () => {
  test('decode names layer, offset and reason', () => {
    const b = new Uint8Array(30);
    b[10] = 0x65; // IPv6 version nibble
    try {
      ipv4.decode(b, 10);
      expect.fail('decoded an IPv6 header as IPv4');
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect(e).toMatchObject({ layer: 'ipv4', offset: 10 });
      expect((e as DecodeError).reason).toMatch(/version 6/);
    }
    expect(() => esp.decode(new Uint8Array(12))).toThrow(/SPI 0 is reserved/);
    expect(() => udp.decode(fromHex('c35012b50004ffff'))).toThrow(/length 4/);
  });
  test('encode rejects out-of-range fields', () => {
    expect(() => encodeToBytes(vxlan, { flags: 0x08, vni: 1 << 24 })).toThrow(EncodeError);
    expect(() =>
      encodeToBytes(ipv4, {
        dscp: 0,
        ecn: 0,
        totalLength: 40,
        id: 0,
        dontFragment: false,
        moreFragments: false,
        fragmentOffsetBytes: 3,
        ttl: 1,
        protocol: 17,
        src: 0,
        dst: 0,
      }),
    ).toThrow(/multiple of 8/);
    expect(() =>
      encodeToBytes(probe, { runId: 1, flowId: 1, seq: 1, txTimeNs: 1n, payloadBytes: 65508 }),
    ).toThrow(EncodeError);
  });
  test('a mangled probe is detected, not misread', () => {
    const b = encodeToBytes(probe, { runId: 9, flowId: 1, seq: 77, txTimeNs: 5n, payloadBytes: 200 });
    for (const at of [4, 8, 17, 27, 29]) {
      const m = b.slice();
      m[at] ^= 0x10;
      expect(() => probe.decode(m)).toThrow(DecodeError);
      expect(verifyPayload(m, 0, 200).ok).toBe(false);
    }
    const m = b.slice();
    m[150] ^= 1;
    expect(verifyPayload(m, 0, 200)).toMatchObject({ ok: false, badOffset: 150 });
    // A seq stamp from another packet (a spliced fragment) is caught too.
    const s = b.slice();
    s[96 + 3] ^= 1;
    expect(verifyPayload(s, 0, 200)).toMatchObject({ ok: false, badOffset: 99 });
    expect(verifyPayload(b, 0, 199).ok).toBe(false); // cut short
  });
});

describe('RFC 1624 incremental checksum update', () => {
  test('a NAT-style destination rewrite, updated word by word, equals a full recompute', async () => {
    const { createIpv4UdpTemplate } = await import('../../src/codec/template.ts');
    const { updateChecksum16 } = await import('../../src/codec/checksum.ts');
    const { fillUdpChecksum } = await import('../../src/codec/udp.ts');
    const { fillIpv4Checksum } = await import('../../src/codec/ipv4.ts');
    const { readU16, writeU16, writeU32 } = await import('../../src/codec/bytes.ts');
    const pkt = createIpv4UdpTemplate({
      srcIp: '10.10.10.5',
      dstIp: '172.20.0.10',
      srcPort: 1,
      dstPort: 5001,
      ttl: 64,
      payloadBytes: 300,
      runId: 1,
      flowId: 1,
    })
      .patch(9, 9n)
      .slice();
    const oldHi = readU16(pkt, 16);
    const oldLo = readU16(pkt, 18);
    const oldPort = readU16(pkt, 22);
    writeU32(pkt, 16, parseIpv4('192.0.2.77'));
    writeU16(pkt, 22, 6001);
    let ipCk = readU16(pkt, 10);
    let udpCk = readU16(pkt, 26);
    ipCk = updateChecksum16(updateChecksum16(ipCk, oldHi, readU16(pkt, 16)), oldLo, readU16(pkt, 18));
    udpCk = updateChecksum16(updateChecksum16(udpCk, oldHi, readU16(pkt, 16)), oldLo, readU16(pkt, 18));
    udpCk = updateChecksum16(udpCk, oldPort, 6001);
    const full = pkt.slice();
    fillIpv4Checksum(full, 0);
    fillUdpChecksum(full, 0, 20);
    expect([ipCk, udpCk]).toEqual([readU16(full, 10), readU16(full, 26)]);
  });
});
