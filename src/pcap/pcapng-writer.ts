import { maxCapturedBytes } from './packet.ts';
import { blockType, byteOrderMagic } from './pcapng-decoder.ts';
import { type ByteSink, FileSink, MemorySink, StreamSink } from './sink.ts';
import { StagedWriter } from './staged-writer.ts';
import { checkUint, writeError } from './write-error.ts';

export interface PcapngWriterOptions {
  /** shb_userappl, default "chainprobe" */
  userAppl?: string;
  /** shb_hardware */
  hardware?: string;
  /** shb_os */
  os?: string;
}

export interface PcapngInterfaceOptions {
  /** if_name: by convention the capture point, e.g. "ingress", "nat-out" */
  name?: string;
  /** if_description */
  description?: string;
  /** LINKTYPE_* */
  linktype: number;
  /** default 262144 */
  snaplen?: number;
  /** ns per tick, a power of ten from 1 (default, if_tsresol=9) to 1e9 (if_tsresol=0) */
  tsresolNs?: number;
}

export interface PcapngPacketOptions {
  /** opt_comment */
  comment?: string;
  /** default data.length */
  originalLength?: number;
}

const utf8 = new TextEncoder();
const pad4 = (n: number) => (n + 3) & ~3;

interface WriterInterface {
  snaplen: number;
  tickNs: bigint;
}

/**
 * pcapng writer (little-endian, one section): an SHB, one IDB per addInterface() (one per capture point),
 * EPBs. Interfaces may be added at any time, also after packets of other interfaces.
 *
 *   const w = PcapngWriter.toFile('run.pcapng');
 *   const ingress = w.addInterface({ name: 'ingress', linktype: 1 });
 *   w.writePacket(ingress, frame, tsNs, { comment: 'probe 7' });
 *   await w.close();
 */
export class PcapngWriter extends StagedWriter {
  private readonly interfaces: WriterInterface[] = [];

  constructor(opts: PcapngWriterOptions = {}, sink: ByteSink = new MemorySink()) {
    super(sink);
    const options: [number, Uint8Array][] = [];
    if (opts.hardware !== undefined) options.push([2, utf8.encode(opts.hardware)]);
    if (opts.os !== undefined) options.push([3, utf8.encode(opts.os)]);
    options.push([4, utf8.encode(opts.userAppl ?? 'chainprobe')]);
    const at = this.beginBlock(blockType.sectionHeader, 16, options);
    const v = this.staging.view;
    v.setUint32(at + 8, byteOrderMagic, true);
    v.setUint16(at + 12, 1, true);
    v.setUint16(at + 14, 0, true);
    v.setBigInt64(at + 16, -1n, true); // section length unknown: we stream
  }

  static toFile(path: string, opts: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(opts, new FileSink(path));
  }

  static toStream(stream: NodeJS.WritableStream, opts: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(opts, new StreamSink(stream));
  }

  /** Writes an IDB and returns its interface id (0, 1, ... in call order). */
  addInterface(i: PcapngInterfaceOptions): number {
    this.assertOpen('addInterface');
    const snaplen = i.snaplen ?? maxCapturedBytes;
    const tsresolNs = i.tsresolNs ?? 1;
    checkUint('linktype', i.linktype, 0xffff);
    checkUint('snaplen', snaplen, maxCapturedBytes);
    const exponent = 9 - Math.log10(tsresolNs);
    if (!Number.isInteger(exponent) || exponent < 0 || exponent > 9) {
      throw writeError(`tsresolNs ${tsresolNs} is not a power of ten between 1 and 1e9`);
    }
    const options: [number, Uint8Array][] = [];
    if (i.name !== undefined) options.push([2, utf8.encode(i.name)]);
    if (i.description !== undefined) options.push([3, utf8.encode(i.description)]);
    options.push([9, Uint8Array.of(exponent)]);
    const at = this.beginBlock(blockType.interfaceDescription, 8, options);
    const v = this.staging.view;
    v.setUint16(at + 8, i.linktype, true);
    v.setUint16(at + 10, 0, true);
    v.setUint32(at + 12, snaplen, true);
    this.interfaces.push({ snaplen: snaplen === 0 ? maxCapturedBytes : snaplen, tickNs: BigInt(tsresolNs) });
    return this.interfaces.length - 1;
  }

  /** Appends an EPB. The timestamp is truncated to the interface's resolution. */
  writePacket(
    interfaceId: number,
    data: Uint8Array,
    timestampNs: bigint,
    opts: PcapngPacketOptions = {},
  ): void {
    this.assertOpen('writePacket');
    const iface = this.interfaces[interfaceId];
    if (iface === undefined)
      throw writeError(`interface ${interfaceId} was not added (have ${this.interfaces.length})`);
    if (timestampNs < 0n) throw writeError(`negative timestamp ${timestampNs} ns`);
    const ticks = iface.tickNs === 1n ? timestampNs : timestampNs / iface.tickNs;
    if (ticks >= 1n << 64n) throw writeError(`timestamp ${timestampNs} ns does not fit 64 bits of ticks`);
    const originalLength = opts.originalLength ?? data.length;
    if (!Number.isInteger(originalLength) || originalLength < data.length || originalLength > 0xffffffff) {
      throw writeError(
        `originalLength ${originalLength} is smaller than the data (${data.length} bytes) or not a u32`,
      );
    }
    const capturedLength = Math.min(data.length, iface.snaplen);
    const options: [number, Uint8Array][] | undefined =
      opts.comment === undefined ? undefined : [[1, utf8.encode(opts.comment)]];
    const at = this.beginBlock(blockType.enhancedPacket, 20 + pad4(capturedLength), options);
    const b = this.staging.bytes;
    const v = this.staging.view;
    v.setUint32(at + 8, interfaceId, true);
    v.setUint32(at + 12, Number(ticks >> 32n), true);
    v.setUint32(at + 16, Number(ticks & 0xffffffffn), true);
    v.setUint32(at + 20, capturedLength, true);
    v.setUint32(at + 24, originalLength, true);
    b.set(capturedLength === data.length ? data : data.subarray(0, capturedLength), at + 28);
    b.fill(0, at + 28 + capturedLength, at + 28 + pad4(capturedLength));
    this.packetCount++;
  }

  /**
   * Reserves a whole block (header, `fixedBytes` of body, options + opt_endofopt, trailer), writes type,
   * both lengths and the options, and returns the block's offset; the caller fills the fixed body.
   */
  private beginBlock(type: number, fixedBytes: number, options?: [number, Uint8Array][]): number {
    let optionBytes = 0;
    if (options !== undefined && options.length > 0) {
      for (const [, value] of options) {
        if (value.length > 0xffff) throw writeError(`option of ${value.length} bytes exceeds 65535`);
        optionBytes += 4 + pad4(value.length);
      }
      optionBytes += 4; // opt_endofopt
    }
    const totalLength = 8 + fixedBytes + optionBytes + 4;
    const at = this.staging.reserve(totalLength);
    const b = this.staging.bytes;
    const v = this.staging.view;
    v.setUint32(at, type, true);
    v.setUint32(at + 4, totalLength, true);
    let o = at + 8 + fixedBytes;
    if (optionBytes > 0 && options !== undefined) {
      for (const [code, value] of options) {
        v.setUint16(o, code, true);
        v.setUint16(o + 2, value.length, true);
        b.set(value, o + 4);
        b.fill(0, o + 4 + value.length, o + 4 + pad4(value.length));
        o += 4 + pad4(value.length);
      }
      v.setUint32(o, 0, true);
    }
    v.setUint32(at + totalLength - 4, totalLength, true);
    return at;
  }
}
