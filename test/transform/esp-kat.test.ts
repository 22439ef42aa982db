/**
 * Known-answer tests for RFC 4106 AES-GCM ESP: complete ESP packets (SPI ‖ seq ‖ IV ‖ ciphertext ‖ ICV) from
 *   D. McGrew, J. Viega, "The Use of Galois/Counter Mode (GCM) in IPsec ESP — test vectors",
 *   draft-mcgrew-gcm-test-01 (2005), §4 (https://tools.ietf.org/html/draft-mcgrew-gcm-test-01).
 * Transcribed from the public copies of that draft's cases used in other projects' test suites (the same key /
 * nonce / AAD / ciphertext values appear e.g. in snabb's lib/ipsec/aes_gcm.lua self-test and in Go/C++ MLS test
 * code citing draft-mcgrew-gcm-test-01 §4). Only the AES-128 cases are used. In the draft, the nonce is
 * salt(4) ‖ IV(8) and the plaintext already includes ESP padding, pad length and next header; ESN cases (64-bit
 * seq, 12-byte AAD) exercise `seqHigh`.
 */
import { describe, expect, test } from 'vitest';
import { openEsp, sealEsp } from '../../src/transform/esp-sa.ts';
import { hex, unhex } from './scapy.ts';

interface Vector {
  name: string;
  key: string;
  spi: string;
  /** 8 hex digits (32-bit) or 16 (ESN: high ‖ low) */
  seq: string;
  nonce: string;
  plaintext: string;
  packet: string;
}

const vectors: Vector[] = [
  {
    name: 'case 2 (32-bit seq, SPI 0000a5f8)',
    key: 'feffe9928665731c6d6a8f9467308308',
    spi: '0000a5f8',
    seq: '0000000a',
    nonce: 'cafebabefacedbaddecaf888',
    plaintext: `4500003e698f000080114dccc0a80102 c0a801010a980035002a2343b2d00100
                00010000000000000373697009637962 65726369747902646b00000100010001`,
    packet: `0000a5f80000000afacedbaddecaf888 deb22cd9b07c72c16e3a65beeb8df304
             a5a5897d33ae530f1ba76d5d114d2a5c 3de81827c10e9a4f51330d0eec416642
             cfbb85a5b47e48a4ec3b9ba95d918bd1 83b70d3aa8bc6ee4c309e9d85a41ad4a`,
  },
  {
    name: 'case 3 (all-zero key, 32-bit seq 1)',
    key: '00000000000000000000000000000000',
    spi: '00000000',
    seq: '00000001',
    nonce: '000000000000000000000000',
    plaintext: `4500003c99c500008001cb7a40679318 010101010800075c0200440061626364
                65666768696a6b6c6d6e6f7071727374 75767761626364656667686901020201`,
    packet: `00000000000000010000000000000000 4688daf2f973a392732909c331d56d60
             f694abaa414b5e7ff5fdcdfff5e9a284 456476492719ffb64de7d9dca1e1d894
             bc3bd57873ed4d181d19d4d5c8c18af3 f821d496eeb096e98ad2b69e4799c71d`,
  },
  {
    name: 'empty payload, seq ffffffff',
    key: '7d773d00c144c525ac619d18c84a3f47',
    spi: '335467ae',
    seq: 'ffffffff',
    nonce: 'd966426743457e9182443bc6',
    plaintext: '01020201',
    packet: `335467aeffffffff43457e9182443bc6 437f866bcb3f699fe9b0822bac961c45 04bef270`,
  },
  {
    name: 'case 1 (ESN 0x87654321_00000000)',
    key: '4c80cdefbb5d10da906ac73c3613a634',
    spi: '00004321',
    seq: '8765432100000000',
    nonce: '2e443b684956ed7e3b244cfe',
    plaintext: `45000048699a000080114db7c0a80102 c0a801010a9bf15638d3010000010000
                00000000045f736970045f7564700373 69700963796265726369747902646b00 0021000101020201`,
    packet: `00004321000000004956ed7e3b244cfe fecf537e729d5b07dc30df528dd22b76
             8d1b98736696a6fd348509fa13ceac34 cfa2436f14a3f3cf65925bf1f4a13c5d
             15b21e1884f5ff6247aeabb786b93bce 61bc17d768fd9732459018148f6cbe72 2fd04796562dfdb4`,
  },
  {
    name: 'case 4 (ESN 0x10101010_10101010)',
    key: '3de09874b388e6491988d0c3607eae1f',
    spi: '42f67e3f',
    seq: '1010101010101010',
    nonce: '57690e434e280000a2fca1a3',
    plaintext: `4500003c99c300008001cb7c40679318 010101010800085c0200430061626364
                65666768696a6b6c6d6e6f7071727374 75767761626364656667686901020201`,
    packet: `42f67e3f101010104e280000a2fca1a3 fba2caa4853cf9f0f22cb10d86dd83b0
             fec75691cf1a04b00d1138ec9c357917 65acbd8701ad79845bf9fe3fba487bc9
             1755e6662b4c8d0d1f5e22739530320a e0d731cc978ecafaeae88f00e80d6e48`,
  },
  {
    name: 'ESN 0x00000000_00000001, 1 pad byte',
    key: 'abbccddef00112233445566778899aab',
    spi: '00000100',
    seq: '0000000000000001',
    nonce: 'decaf888cafedebaceface74',
    plaintext: `4500004933ba00007f119106c3fb1d10 c2b1d326c02831ce0035dd7b800302d5
                00004e20001e8c18d75b81dc91baa047 6b91b924b280389d92c963bac046ec95 9b6266c04722b14923010101`,
    packet: `0000010000000001cafedebaceface74 18a6fd42f72cbf4ab2a2ea901f73d814
             e3e7f243d95412e1c349c1d2fbec168f 9190feebaf2cb01984e65863965d7472
             b79da345e0e780191f0d2f0e0f496c22 6f2127b27db35724e7845d68651f57e6 5f354f75ff17015769623436`,
  },
];

describe.each(vectors)('draft-mcgrew-gcm-test-01 $name', (v) => {
  const key = unhex(v.key);
  const nonce = unhex(v.nonce);
  const keys = { key, salt: nonce.subarray(0, 4) };
  const iv = nonce.subarray(4);
  const pt = unhex(v.plaintext);
  const padLength = pt[pt.length - 2];
  const nextHeader = pt[pt.length - 1];
  const payload = pt.subarray(0, pt.length - 2 - padLength);
  const esn = v.seq.length === 16;
  const seq = Number.parseInt(v.seq.slice(-8), 16);
  const seqHigh = esn ? Number.parseInt(v.seq.slice(0, 8), 16) : undefined;

  test('seal equals the vector byte for byte', () => {
    const esp = sealEsp(keys, { spi: Number.parseInt(v.spi, 16), seq, seqHigh, iv }, payload, nextHeader);
    expect(hex(esp)).toBe(hex(unhex(v.packet)));
  });

  test('open recovers the plaintext', () => {
    const opened = openEsp(keys, unhex(v.packet), { seqHigh });
    expect(hex(opened.payload)).toBe(hex(payload));
    expect(opened.nextHeader).toBe(nextHeader);
    expect(opened.padLength).toBe(padLength);
    expect(opened.spi).toBe(Number.parseInt(v.spi, 16));
    expect(opened.seq).toBe(seq);
  });

  test('a flipped ciphertext bit fails authentication', () => {
    const bad = unhex(v.packet);
    bad[bad.length - 17] ^= 0x01;
    expect(() => openEsp(keys, bad, { seqHigh })).toThrowError(
      expect.objectContaining({ name: 'EspError', reason: 'auth-failed' }),
    );
  });
});
