/**
 * The native AES-GCM backend (native/esp, loaded by src/transform/native-gcm.ts) against node:crypto: byte-identical
 * ESP for many random packets (with and without ESN, into fresh and caller-provided buffers, through EspSa and the
 * low-level seal/open), cross-decryption, and authentication failures for tampering in both paths.
 * The comparisons need the addon; with it missing or CHAINPROBE_NO_NATIVE=1 they are skipped and only the
 * loader's status is checked.
 */
import { existsSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import {
  EspSa,
  type EspSaOptions,
  espCryptoBackend,
  espLength,
  openEsp,
  sealEsp,
} from '../../src/transform/esp-sa.ts';
import { nativeGcm, nativeGcmStatus } from '../../src/transform/native-gcm.ts';
import { requires } from '../helpers/requires.ts';
import { hex } from './scapy.ts';

const disabled =
  !!process.env.CHAINPROBE_NO_NATIVE && !['0', 'false'].includes(process.env.CHAINPROBE_NO_NATIVE);

/** mulberry32: deterministic, so a failure names a reproducible case. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
  };
}

const NODE = 'node:crypto' as const;

describe('native-gcm loader', () => {
  test('status names the backend, and a reason exactly when native is not used', () => {
    expect(espCryptoBackend.backend).toBe(nativeGcmStatus.backend);
    if (nativeGcm) {
      expect(nativeGcmStatus.backend).toBe('native');
      expect(nativeGcmStatus.reason).toBeUndefined();
    } else {
      expect(nativeGcmStatus.backend).toBe('node:crypto');
      expect(nativeGcmStatus.reason).toMatch(/\S/);
    }
  });

  test('a built addon is used unless CHAINPROBE_NO_NATIVE is set (a broken build must not hide silently)', () => {
    if (disabled) expect(nativeGcmStatus.reason).toMatch(/CHAINPROBE_NO_NATIVE/);
    else if (existsSync(nativeGcmStatus.path)) expect(nativeGcmStatus.reason).toBeUndefined();
  });
});

describe.runIf(
  requires(
    'native AES-GCM vs node:crypto',
    nativeGcm !== null,
    `the native/esp addon: ${nativeGcmStatus.reason}`,
    process.env.CHAINPROBE_NO_NATIVE === '1',
  ),
)('native AES-GCM vs node:crypto', () => {
  const native = nativeGcm as NonNullable<typeof nativeGcm>;

  test('sealEsp/openEsp: 600 random packets, byte-identical ESP, each path opens the other', () => {
    const r = prng(4106);
    for (let i = 0; i < 600; i++) {
      const key = r.bytes(16);
      const salt = r.bytes(4);
      const payload = r.bytes(i < 8 ? i : r.int(0, 1600));
      const fields = {
        spi: r.int(256, 0xffffffff),
        seq: r.int(0, 0xffffffff),
        seqHigh: r.int(0, 2) === 0 ? r.int(0, 0xffffffff) : undefined,
        iv: r.bytes(8),
      };
      const nextHeader = r.int(0, 255);
      const viaNative = sealEsp({ key, salt }, fields, payload, nextHeader);
      const viaNode = sealEsp({ key, salt, backend: NODE }, fields, payload, nextHeader);
      expect(hex(viaNative), `packet ${i}`).toBe(hex(viaNode));

      const opts = { seqHigh: fields.seqHigh };
      for (const [esp, keys] of [
        [viaNode, { key, salt }],
        [viaNative, { key, salt, backend: NODE }],
      ] as const) {
        const o = openEsp(keys, esp, opts);
        expect(hex(o.payload), `packet ${i}`).toBe(hex(payload));
        expect(o.nextHeader).toBe(nextHeader);
        expect(o.seq).toBe(fields.seq);
        expect(o.spi).toBe(fields.spi);
      }
    }
  });

  test('sealEsp into a caller buffer at an offset leaves the bytes around it alone', () => {
    const r = prng(7);
    for (let i = 0; i < 50; i++) {
      const key = r.bytes(16);
      const salt = r.bytes(4);
      const payload = r.bytes(r.int(0, 1500));
      const fields = { spi: r.int(256, 0xffffffff), seq: r.int(0, 0xffffffff), iv: r.bytes(8) };
      const offset = r.int(0, 64);
      const fill = r.bytes(offset + espLength(payload.length) + 32);
      const a = fill.slice();
      const b = fill.slice();
      sealEsp({ key, salt }, fields, payload, 4, a, offset);
      sealEsp({ key, salt, backend: NODE }, fields, payload, 4, b, offset);
      expect(hex(a)).toBe(hex(b));
      expect(hex(a.subarray(0, offset))).toBe(hex(fill.subarray(0, offset)));
      const end = offset + espLength(payload.length);
      expect(hex(a.subarray(end))).toBe(hex(fill.subarray(end)));
    }
  });

  test('EspSa: native and node:crypto SAs produce identical outer packets and decrypt each other', () => {
    const r = prng(3948);
    for (const encapsulation of [
      { kind: 'udp', srcPort: 4500, dstPort: 4500 },
      { kind: 'none' },
    ] as EspSaOptions['encapsulation'][]) {
      for (const ivMode of ['counter', 'random'] as const) {
        const o: EspSaOptions = {
          spi: r.int(256, 0xffffffff),
          key: r.bytes(16),
          salt: r.bytes(4),
          tunnelSrc: '172.20.103.1',
          tunnelDst: '172.20.103.2',
          encapsulation,
          ivMode,
        };
        const n = new EspSa(o);
        const j = new EspSa({ ...o, backend: NODE });
        expect(n.backend).toBe('native');
        expect(j.backend).toBe('node:crypto');
        for (let i = 0; i < 100; i++) {
          const inner = r.bytes(r.int(20, 1500));
          inner[0] = 0x45;
          // random IVs come from a shared pool, so pin them for the comparison
          const iv = ivMode === 'random' ? r.bytes(8) : undefined;
          const a = n.encrypt(inner, { iv });
          const b = j.encrypt(inner, { iv });
          expect(hex(a)).toBe(hex(b));
          expect(hex(j.decrypt(a).inner)).toBe(hex(inner));
          expect(hex(n.decrypt(b).inner)).toBe(hex(inner));
        }
      }
    }
  });

  test('the decrypted inner packet has its own memory (not the input, not a shared pool)', () => {
    const o: EspSaOptions = {
      spi: 4096,
      key: new Uint8Array(16).fill(1),
      salt: new Uint8Array(4).fill(2),
      tunnelSrc: '10.0.0.1',
      tunnelDst: '10.0.0.2',
      encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 },
    };
    const sa = new EspSa(o);
    const inner = new Uint8Array(100).fill(0x45);
    const outer = sa.encrypt(inner);
    const got = sa.decrypt(outer).inner;
    expect(got.buffer).not.toBe(outer.buffer);
    outer.fill(0);
    expect(hex(got)).toBe(hex(inner));
  });

  test('tampering with any part of the ESP fails authentication in both paths', () => {
    const r = prng(4303);
    for (let i = 0; i < 200; i++) {
      const key = r.bytes(16);
      const salt = r.bytes(4);
      const payload = r.bytes(r.int(0, 1500));
      const seqHigh = i % 4 === 0 ? r.int(0, 0xffffffff) : undefined;
      const esp = sealEsp(
        { key, salt },
        { spi: r.int(256, 0xffffffff), seq: r.int(0, 0xffffffff), seqHigh, iv: r.bytes(8) },
        payload,
      );
      // SPI/seq (AAD), IV (nonce), ciphertext, ICV
      const region = i % 4;
      const at =
        region === 0
          ? r.int(0, 7)
          : region === 1
            ? r.int(8, 15)
            : region === 2
              ? r.int(16, esp.length - 17)
              : r.int(esp.length - 16, esp.length - 1);
      const bad = esp.slice();
      bad[at] ^= 1 << r.int(0, 7);
      for (const keys of [
        { key, salt },
        { key, salt, backend: NODE },
      ]) {
        expect(() => openEsp(keys, bad, { seqHigh }), `packet ${i} byte ${at}`).toThrowError(
          expect.objectContaining({ name: 'EspError', reason: 'auth-failed' }),
        );
        // wrong key, wrong salt, wrong ESN high bits
        const otherKey = key.slice();
        otherKey[r.int(0, 15)] ^= 0x80;
        expect(() => openEsp({ ...keys, key: otherKey }, esp, { seqHigh })).toThrowError(
          expect.objectContaining({ reason: 'auth-failed' }),
        );
        const otherSalt = salt.slice();
        otherSalt[r.int(0, 3)] ^= 0x01;
        expect(() => openEsp({ ...keys, salt: otherSalt }, esp, { seqHigh })).toThrowError(
          expect.objectContaining({ reason: 'auth-failed' }),
        );
        expect(() =>
          openEsp(keys, esp, { seqHigh: seqHigh === undefined ? 1 : (seqHigh + 1) >>> 0 }),
        ).toThrowError(expect.objectContaining({ reason: 'auth-failed' }));
      }
    }
  });

  test('EspSa.decrypt of a tampered packet: auth-failed from both backends, same message', () => {
    const o: EspSaOptions = {
      spi: 0x1234,
      key: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
      salt: Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
      tunnelSrc: '172.20.103.1',
      tunnelDst: '172.20.103.2',
      encapsulation: { kind: 'udp', srcPort: 4500, dstPort: 4500 },
    };
    const outer = new EspSa(o).encrypt(new Uint8Array(200).fill(0x45));
    outer[outer.length - 40] ^= 0x10;
    const messages = [new EspSa(o), new EspSa({ ...o, backend: NODE })].map((sa) => {
      try {
        sa.decrypt(outer);
      } catch (e) {
        expect(e).toMatchObject({ name: 'EspError', reason: 'auth-failed', spi: 0x1234 });
        return (e as Error).message;
      }
      throw new Error('tampered packet decrypted');
    });
    expect(messages[0]).toBe(messages[1]);
    expect(messages[0]).not.toMatch(/a0a1a2|deadbeef/i);
  });

  test('binding: failed open zeroes the output; the handle shows no key; bad arguments throw, never crash', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const salt = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
    const h = native.create(key, salt);
    expect(inspect(h, { showHidden: true, depth: 5 })).not.toMatch(/a0a1|A0 A1|160|deadbeef/i);
    expect(JSON.stringify({ h }) ?? '').not.toMatch(/a0a1|deadbeef/i);

    const buf = new Uint8Array(16 + 40 + 16).fill(3);
    native.seal(h, buf, 0, 40);
    const out = new Uint8Array(40);
    expect(native.open(h, buf, out)).toBe(true);
    expect([...out]).toEqual(new Array(40).fill(3));
    buf[30] ^= 1;
    expect(native.open(h, buf, out)).toBe(false);
    expect([...out]).toEqual(new Array(40).fill(0));

    const fake = {} as typeof h;
    expect(() => native.seal(fake, buf, 0, 40)).toThrow(TypeError);
    expect(() => native.open(fake, buf, out)).toThrow(TypeError);
    expect(() => native.seal(h, buf, 1, 40)).toThrow(RangeError);
    expect(() => native.seal(h, buf, 0, 0xffffffff)).toThrow(RangeError);
    expect(() => native.open(h, buf.subarray(0, 31), out)).toThrow(RangeError);
    expect(() => native.open(h, buf, new Uint8Array(39))).toThrow(RangeError);
    expect(() => native.seal(h, new Uint16Array(64) as unknown as Uint8Array, 0, 40)).toThrow(TypeError);
    expect(() => native.create(new Uint8Array(15), salt)).toThrow(RangeError);
    expect(() => native.create(key, new Uint8Array(5))).toThrow(RangeError);
  });
});
