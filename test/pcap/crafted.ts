/**
 * Capture files built byte by byte in the test, independent of our writers, so the reader is checked against
 * the format spec (and tshark) rather than against ourselves. Big-endian on purpose: tools on this machine
 * only write the native (little-endian) order.
 */

export interface CraftedPacket {
  seconds: number;
  fraction: number; // µs or ns, as the magic says
  data: Uint8Array;
  originalLength?: number;
}

/** A classic pcap file in either byte order, µs or ns magic. */
export function craftPcap(opts: {
  bigEndian: boolean;
  nano: boolean;
  linktype: number;
  packets: CraftedPacket[];
}): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const u32 = (b: Buffer, v: number, at: number) =>
    opts.bigEndian ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at);
  const u16 = (b: Buffer, v: number, at: number) =>
    opts.bigEndian ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at);
  u32(h, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(h, 2, 4);
  u16(h, 4, 6);
  u32(h, 65535, 16);
  u32(h, opts.linktype, 20);
  parts.push(h);
  for (const p of opts.packets) {
    const r = Buffer.alloc(16);
    u32(r, p.seconds, 0);
    u32(r, p.fraction, 4);
    u32(r, p.data.length, 8);
    u32(r, p.originalLength ?? p.data.length, 12);
    parts.push(r, Buffer.from(p.data));
  }
  return Buffer.concat(parts);
}

/** Builds pcapng blocks in one byte order. */
export class PcapngCrafter {
  private readonly parts: Buffer[] = [];
  constructor(private readonly bigEndian: boolean) {}

  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    this.bigEndian ? b.writeUInt16BE(v) : b.writeUInt16LE(v);
    return b;
  }
  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    this.bigEndian ? b.writeUInt32BE(v) : b.writeUInt32LE(v);
    return b;
  }
  i64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    this.bigEndian ? b.writeBigInt64BE(v) : b.writeBigInt64LE(v);
    return b;
  }
  option(code: number, value: Uint8Array | string): Buffer {
    const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    const pad = Buffer.alloc((4 - (v.length % 4)) % 4);
    return Buffer.concat([this.u16(code), this.u16(v.length), v, pad]);
  }
  options(...opts: Buffer[]): Buffer {
    return opts.length ? Buffer.concat([...opts, this.u32(0)]) : Buffer.alloc(0);
  }
  block(type: number, body: Buffer): this {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const total = 12 + body.length + pad.length;
    this.parts.push(Buffer.concat([this.u32(type), this.u32(total), body, pad, this.u32(total)]));
    return this;
  }
  shb(...opts: Buffer[]): this {
    return this.block(
      0x0a0d0d0a,
      Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), this.i64(-1n), this.options(...opts)]),
    );
  }
  idb(linktype: number, snaplen: number, ...opts: Buffer[]): this {
    return this.block(
      1,
      Buffer.concat([this.u16(linktype), this.u16(0), this.u32(snaplen), this.options(...opts)]),
    );
  }
  epb(
    interfaceId: number,
    ticks: bigint,
    data: Uint8Array,
    opts: { originalLength?: number; options?: Buffer[] } = {},
  ): this {
    const padded = Buffer.concat([Buffer.from(data), Buffer.alloc((4 - (data.length % 4)) % 4)]);
    return this.block(
      6,
      Buffer.concat([
        this.u32(interfaceId),
        this.u32(Number(ticks >> 32n)),
        this.u32(Number(ticks & 0xffffffffn)),
        this.u32(data.length),
        this.u32(opts.originalLength ?? data.length),
        padded,
        this.options(...(opts.options ?? [])),
      ]),
    );
  }
  spb(originalLength: number, data: Uint8Array): this {
    return this.block(3, Buffer.concat([this.u32(originalLength), Buffer.from(data)]));
  }
  /** A block we do not decode (NRB, ISB, DSB, custom): arbitrary body. */
  opaque(type: number, body: Uint8Array): this {
    return this.block(type, Buffer.from(body));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Deterministic bytes: a frame-like payload of `length` bytes seeded by `seed`. */
export function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 3)) & 0xff;
  return out;
}

/** A big-endian section with everything we handle, then a little-endian section. */
export function craftedPcapng(): Buffer {
  const be = new PcapngCrafter(true);
  be.shb(be.option(4, 'hand-built'), be.option(1, 'section comment'))
    .idb(1, 0, be.option(2, 'be-ns'), be.option(9, Uint8Array.of(9)))
    .idb(
      101,
      128,
      be.option(2, 'be-pow2'),
      be.option(3, 'power-of-two ticks'),
      be.option(9, Uint8Array.of(0x8a)),
    )
    .opaque(4, Buffer.from([0, 1, 0, 8, 10, 0, 0, 1, 0x61, 0x62, 0, 0, 0, 0, 0, 0])) // NRB
    .epb(0, 1_700_000_000_123_456_789n, bytesOf(60, 1), {
      options: [be.option(1, 'hello BE'), be.option(1, 'second comment')],
    })
    .epb(1, 1_700_000_000n * 1024n + 6n, bytesOf(33, 2), { originalLength: 1500 })
    .spb(100, bytesOf(100, 3))
    .opaque(5, Buffer.alloc(20)) // ISB
    .opaque(0x0a, Buffer.concat([be.u32(0x544c534b), be.u32(4992), Buffer.alloc(4992, 0x23)])) // DSB (TLS key log), 5 KB
    .epb(0, 1_700_000_002_000_000_000n, bytesOf(7, 4), {
      options: [be.option(2, Buffer.alloc(4)), be.option(1, 'after flags')],
    });
  const le = new PcapngCrafter(false);
  le.shb()
    .idb(1, 0, le.option(2, 'le-us'), le.option(9, Uint8Array.of(6)), le.option(14, le.i64(10n)))
    .epb(0, 1_700_000_003_000_001n, bytesOf(64, 5))
    .block(
      2,
      Buffer.concat([
        le.u16(0),
        le.u16(0),
        le.u32(0),
        le.u32(1_700_000_004),
        le.u32(5),
        le.u32(5),
        Buffer.from(bytesOf(5, 6)),
        Buffer.alloc(3),
      ]),
    ); // obsolete PB
  return Buffer.concat([be.toBuffer(), le.toBuffer()]);
}
