/**
 * The dissector on hostile input: every truncation and thousands of seeded random mutations end in
 * success or a DecodeError, never another exception; describe/summarize never throw either.
 */
import { expect, describe as group, test } from 'vitest';
import { encodeToBytes } from '../../src/codec/codec.ts';
import { DecodeError } from '../../src/codec/errors.ts';
import { esp } from '../../src/codec/esp.ts';
import { sll, sll2 } from '../../src/codec/sll.ts';
import {
  Dissection,
  defaultBindings,
  describe,
  dissect,
  Layer,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  summarize,
} from '../../src/codec/stack.ts';
import { createIpv4UdpTemplate, createVxlanTemplate } from '../../src/codec/template.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { ipv4UdpSpec, vxlanSpec } from './fixtures.ts';

function seeds(): [string, Uint8Array, number][] {
  const vx64 = createVxlanTemplate(vxlanSpec(64, true)).patch(1, 1n).slice();
  const vx8000 = createVxlanTemplate(vxlanSpec(8000)).patch(2, 2n).slice();
  const raw = createIpv4UdpTemplate(ipv4UdpSpec(100, false)).patch(3, 3n).slice();
  const sllHdr = encodeToBytes(sll, {
    packetType: 4,
    arphrdType: 1,
    address: new Uint8Array(6),
    protocol: 0x0800,
  });
  const sll2Hdr = encodeToBytes(sll2, {
    protocol: 0x0800,
    interfaceIndex: 2,
    arphrdType: 1,
    packetType: 0,
    address: new Uint8Array(6),
  });
  const espPkt = raw.slice();
  espPkt[9] = 50;
  return [
    ['vxlan-64', vx64, LINKTYPE_ETHERNET],
    ['vxlan-8000', vx8000, LINKTYPE_ETHERNET],
    ['raw', raw, LINKTYPE_IPV4],
    ['sll', new Uint8Array([...sllHdr, ...raw]), LINKTYPE_LINUX_SLL],
    ['sll2', new Uint8Array([...sll2Hdr, ...raw]), LINKTYPE_LINUX_SLL2],
    ['esp', espPkt, LINKTYPE_IPV4],
  ];
}

function survive(frame: Uint8Array, linktype: number, d: Dissection): 'ok' | 'decode-error' {
  let result: 'ok' | 'decode-error' = 'ok';
  try {
    dissect(frame, linktype, d);
    describe(d);
  } catch (e) {
    if (!(e instanceof DecodeError))
      throw new Error(
        `non-DecodeError on ${Buffer.from(frame).toString('hex').slice(0, 200)}: ${(e as Error).stack}`,
      );
    result = 'decode-error';
  }
  summarize(frame, linktype); // must not throw at all
  return result;
}

group('dissector robustness', () => {
  test('every truncation of every seed frame', () => {
    const d = new Dissection();
    for (const [name, frame, linktype] of seeds()) {
      let errors = 0;
      for (let cut = 0; cut < frame.length; cut++)
        if (survive(frame.subarray(0, cut), linktype, d) === 'decode-error') errors++;
      // Every cut inside the announced lengths is an error (nothing is silently accepted).
      expect(errors, name).toBe(frame.length);
      expect(survive(frame, linktype, d), name).toBe('ok');
    }
  });

  test('20 000 seeded random mutations', () => {
    const rnd = mulberry32(0xc0dec);
    const d = new Dissection();
    const all = seeds();
    const outcomes = { ok: 0, 'decode-error': 0 };
    for (let i = 0; i < 20_000; i++) {
      const [, seed, linktype] = all[i % all.length];
      const f = seed.slice(0, rnd() < 0.2 ? Math.floor(rnd() * seed.length) : seed.length);
      const flips = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < flips && f.length; k++) {
        // Bias towards header bytes, where the interesting branches are.
        const at = Math.floor(rnd() * Math.min(f.length, rnd() < 0.8 ? 100 : f.length));
        f[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : f[at] ^ (1 << Math.floor(rnd() * 8));
      }
      outcomes[survive(f, linktype, d)]++;
    }
    // Both outcomes occur: the fuzz reaches past the first header checks.
    expect(outcomes.ok).toBeGreaterThan(1000);
    expect(outcomes['decode-error']).toBeGreaterThan(1000);
  });

  test('random bytes on every linktype, including unknown ones', () => {
    const rnd = mulberry32(7);
    const d = new Dissection();
    for (let i = 0; i < 5000; i++) {
      const f = new Uint8Array(Math.floor(rnd() * 120));
      for (let k = 0; k < f.length; k++) f[k] = Math.floor(rnd() * 256);
      survive(f, [1, 101, 228, 113, 276, 999][i % 6], d);
    }
  });

  test('specific malformations name layer and offset', () => {
    const f = createVxlanTemplate(vxlanSpec(64)).patch(1, 1n).slice();
    const bad = f.slice();
    bad[14 + 2] = 0xff; // outer total length beyond the frame
    expect(() => dissect(bad, LINKTYPE_ETHERNET)).toThrow(
      expect.objectContaining({ layer: 'ipv4', offset: 16 }),
    );
    const udpShort = f.slice();
    udpShort[34 + 5] = 4; // UDP length 4
    expect(() => dissect(udpShort, LINKTYPE_ETHERNET)).toThrow(
      expect.objectContaining({ layer: 'udp', offset: 38 }),
    );
    expect(() => dissect(f, 999)).toThrow(/unsupported linktype 999/);
    expect(summarize(bad, LINKTYPE_ETHERNET)).toMatch(/Ethernet .*\n!! ipv4: total length/);
  });

  test('a corrupted probe is reported, not read', () => {
    const f = createVxlanTemplate(vxlanSpec(64)).patch(1, 1n).slice();
    f[92 + 17] ^= 1; // probe seq byte; the inner UDP checksum is not checked by dissect
    const d = dissect(f, LINKTYPE_ETHERNET);
    expect(d.probeStatus).toBe('bad-crc');
    expect(d.kind[d.count - 1]).toBe(Layer.payload);
    expect(summarize(f, LINKTYPE_ETHERNET)).toMatch(/Payload 64 bytes \(probe bad-crc\)/);
  });

  test('bindings are explicit: VXLAN on another port only when bound', () => {
    const f = createVxlanTemplate({
      ...vxlanSpec(64),
      outer: { ...vxlanSpec(64).outer, dstPort: 8472 },
    }).patch(1, 1n);
    expect(dissect(f, LINKTYPE_ETHERNET).names()).toEqual(['ethernet', 'ipv4', 'udp', 'payload']);
    const b = defaultBindings().bindUdpPort(8472, Layer.vxlan);
    expect(dissect(f, LINKTYPE_ETHERNET, new Dissection(), b).names()).toEqual([
      'ethernet',
      'ipv4',
      'udp',
      'vxlan',
      'ethernet',
      'ipv4',
      'udp',
      'probe',
    ]);
  });

  test('ESP with SPI 0 is malformed; ESP payload is opaque', () => {
    const p = new Uint8Array(20 + 8 + 16);
    p.set([0x45, 0, 0, 44, 0, 1, 0, 0, 64, 50]);
    expect(() => dissect(p, LINKTYPE_IPV4)).toThrow(/SPI 0/);
    esp.encode({ spi: 5, seq: 1, data: new Uint8Array(16) }, p, 20);
    expect(dissect(p, LINKTYPE_IPV4).stop).toBe('esp');
  });
});
