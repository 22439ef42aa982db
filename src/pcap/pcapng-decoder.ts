import { PcapFormatError } from './format-error.ts';
import { maxBufferedBlockBytes, maxCapturedBytes, type PcapInterface, type PcapPacket } from './packet.ts';
import type { InterfaceListener, RecordDecoder } from './record-decoder.ts';

/** pcapng block types (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng). */
export const blockType = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  obsoletePacket: 0x00000002,
  simplePacket: 0x00000003,
  nameResolution: 0x00000004,
  interfaceStatistics: 0x00000005,
  enhancedPacket: 0x00000006,
  decryptionSecrets: 0x0000000a,
} as const;

export const byteOrderMagic = 0x1a2b3c4d;

/** Option codes we read. */
const optEndOfOpt = 0;
const optComment = 1;
const ifName = 2;
const ifDescription = 3;
const ifTsresol = 9;
const ifTsoffset = 14;

const utf8 = new TextDecoder('utf-8');

/** An IDB plus the exact tick→ns conversion (ns = ticks * tickMul / tickDiv + offsetNs). */
interface InterfaceState {
  info: PcapInterface;
  tickMul: bigint;
  tickDiv: bigint;
  /** ticks are already ns: skip the multiply/divide on the hot path */
  nsTicks: boolean;
  offsetNs: bigint;
}

const pad4 = (n: number) => (n + 3) & ~3;

/**
 * pcapng: a sequence of blocks, each `type, totalLength, body, totalLength`; every Section Header Block
 * starts a section with its own byte order and its own interface list.
 *
 * Packet-carrying blocks (EPB, SPB, obsolete PB) and SHB/IDB are decoded only once complete (bounded by
 * maxBufferedBlockBytes). Any other block (NRB, ISB, DSB, custom ...) is skipped by its length, streaming,
 * without buffering, whatever its size; its trailing length is still checked.
 */
export class PcapngDecoder implements RecordDecoder {
  packet: PcapPacket | null = null;
  needBytes = 0;
  private littleEndian = true;
  private sectionIndex = -1;
  private section: InterfaceState[] = [];
  /** global id of this section's interface 0 (interfaces are numbered across sections) */
  private interfaceBase = 0;
  /** state while skipping the body of a block that is not decoded */
  private skipRemaining = 0;
  private skipTrailerPending = false;
  private skipTotalLength = 0;
  private skipBlockFileOffset = 0;

  constructor(private readonly onInterface: InterfaceListener) {}

  get atRecordBoundary(): boolean {
    return this.sectionIndex >= 0 && this.skipRemaining === 0 && !this.skipTrailerPending;
  }

  /** Absolute file offset of the block being skipped, for truncation messages. */
  get pendingBlockFileOffset(): number | undefined {
    return this.atRecordBoundary ? undefined : this.skipBlockFileOffset;
  }

  decode(bytes: Uint8Array, view: DataView, offset: number, end: number, fileOffset: number): number {
    const avail = end - offset;
    this.packet = null;
    if (this.skipRemaining > 0 || this.skipTrailerPending) return this.skip(view, offset, avail, fileOffset);
    // 12 bytes: type, length and, for an SHB, the byte-order magic that tells how to read the length.
    if (avail < 12) return this.need(12);
    let le = this.littleEndian;
    const type = view.getUint32(offset, le); // SHB type is a palindrome: readable before the order is known
    if (type === blockType.sectionHeader) {
      const bom = view.getUint32(offset + 8, true);
      if (bom === byteOrderMagic) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new PcapFormatError(fileOffset + 8, `bad pcapng byte-order magic 0x${hex(bom)}`);
    } else if (this.sectionIndex < 0) {
      throw new PcapFormatError(fileOffset, 'pcapng file does not start with a Section Header Block');
    }
    const totalLength = view.getUint32(offset + 4, le);
    if (totalLength < 12 || totalLength % 4 !== 0) {
      throw new PcapFormatError(
        fileOffset + 4,
        `bad block total length ${totalLength} (block type 0x${hex(type)})`,
      );
    }
    const decoded =
      type === blockType.enhancedPacket ||
      type === blockType.simplePacket ||
      type === blockType.obsoletePacket ||
      type === blockType.interfaceDescription ||
      type === blockType.sectionHeader;
    if (!decoded) {
      if (avail < totalLength) {
        this.skipRemaining = totalLength - 12;
        this.skipTrailerPending = true;
        this.skipTotalLength = totalLength;
        this.skipBlockFileOffset = fileOffset;
        return 8;
      }
      this.checkTrailer(view, offset, totalLength, le, fileOffset);
      return totalLength;
    }
    if (totalLength > maxBufferedBlockBytes) {
      throw new PcapFormatError(
        fileOffset + 4,
        `block total length ${totalLength} exceeds the maximum ${maxBufferedBlockBytes} (block type 0x${hex(type)})`,
      );
    }
    if (avail < totalLength) return this.need(totalLength);
    this.checkTrailer(view, offset, totalLength, le, fileOffset);
    switch (type) {
      case blockType.enhancedPacket:
      case blockType.obsoletePacket:
        this.decodePacketBlock(type, bytes, view, offset, totalLength, fileOffset);
        break;
      case blockType.simplePacket:
        this.decodeSimplePacket(bytes, view, offset, totalLength, fileOffset);
        break;
      case blockType.interfaceDescription:
        this.decodeInterface(view, offset, totalLength, fileOffset);
        break;
      default:
        this.decodeSectionHeader(view, offset, totalLength, le, fileOffset);
    }
    return totalLength;
  }

  private decodeSectionHeader(
    view: DataView,
    offset: number,
    totalLength: number,
    le: boolean,
    fileOffset: number,
  ) {
    if (totalLength < 28)
      throw new PcapFormatError(fileOffset + 4, `Section Header Block too short (${totalLength})`);
    const major = view.getUint16(offset + 12, le);
    if (major !== 1) throw new PcapFormatError(fileOffset + 12, `unsupported pcapng major version ${major}`);
    // Options (shb_hardware ...) are not needed; section length is advisory and often -1.
    this.littleEndian = le;
    this.sectionIndex++;
    this.interfaceBase += this.section.length;
    this.section = [];
  }

  private decodeInterface(view: DataView, offset: number, totalLength: number, fileOffset: number) {
    const le = this.littleEndian;
    if (totalLength < 20)
      throw new PcapFormatError(fileOffset + 4, `Interface Description Block too short (${totalLength})`);
    const info: PcapInterface = {
      id: this.interfaceBase + this.section.length,
      linktype: view.getUint16(offset + 8, le),
      tsresolNs: 1000, // pcapng default resolution is µs
      snaplen: view.getUint32(offset + 12, le),
      sectionIndex: this.sectionIndex,
    };
    const state: InterfaceState = { info, tickMul: 1000n, tickDiv: 1n, nsTicks: false, offsetNs: 0n };
    const optionsEnd = offset + totalLength - 4;
    for (let o = offset + 16; o < optionsEnd; ) {
      const value = this.optionValue(view, o, optionsEnd, fileOffset + (o - offset));
      const code = view.getUint16(o, le);
      const length = view.getUint16(o + 2, le);
      if (code === optEndOfOpt) break;
      if (code === ifName)
        info.name = utf8.decode(new Uint8Array(view.buffer, view.byteOffset + value, length));
      else if (code === ifDescription)
        info.description = utf8.decode(new Uint8Array(view.buffer, view.byteOffset + value, length));
      else if (code === ifTsresol) {
        if (length < 1) throw new PcapFormatError(fileOffset + (o - offset), 'if_tsresol option is empty');
        const r = view.getUint8(value);
        const n = BigInt(r & 0x7f);
        if (r & 0x80) {
          state.tickMul = 1_000_000_000n; // 2^-n s per tick
          state.tickDiv = 1n << n;
        } else if (n <= 9n) {
          state.tickMul = 10n ** (9n - n);
          state.tickDiv = 1n;
        } else {
          state.tickMul = 1n;
          state.tickDiv = 10n ** (n - 9n);
        }
        info.tsresolNs = Number(state.tickMul) / Number(state.tickDiv);
      } else if (code === ifTsoffset) {
        if (length !== 8)
          throw new PcapFormatError(fileOffset + (o - offset), `if_tsoffset has length ${length}, not 8`);
        state.offsetNs = view.getBigInt64(value, le) * 1_000_000_000n;
      }
      o = value + pad4(length);
    }
    state.nsTicks = state.tickMul === 1n && state.tickDiv === 1n;
    this.section.push(state);
    this.onInterface(info);
  }

  private decodePacketBlock(
    type: number,
    bytes: Uint8Array,
    view: DataView,
    offset: number,
    totalLength: number,
    fileOffset: number,
  ) {
    const le = this.littleEndian;
    if (totalLength < 32)
      throw new PcapFormatError(fileOffset + 4, `packet block too short (${totalLength})`);
    const localId =
      type === blockType.enhancedPacket ? view.getUint32(offset + 8, le) : view.getUint16(offset + 8, le);
    const iface = this.section[localId];
    if (iface === undefined) {
      throw new PcapFormatError(
        fileOffset + 8,
        `packet refers to interface ${localId}, but the section has ${this.section.length} interface(s)`,
      );
    }
    const capturedLength = view.getUint32(offset + 20, le);
    if (capturedLength > maxCapturedBytes || 28 + capturedLength + 4 > totalLength) {
      throw new PcapFormatError(
        fileOffset + 20,
        `captured length ${capturedLength} does not fit the block (total length ${totalLength}, maximum ${maxCapturedBytes})`,
      );
    }
    const high = view.getUint32(offset + 12, le);
    const low = view.getUint32(offset + 16, le);
    // Below 2^53 the tick count is exact as a double: one BigInt conversion instead of two and a shift.
    let ticks = high < 0x200000 ? BigInt(high * 4294967296 + low) : (BigInt(high) << 32n) | BigInt(low);
    if (!iface.nsTicks) ticks = (ticks * iface.tickMul) / iface.tickDiv;
    if (iface.offsetNs !== 0n) ticks += iface.offsetNs;
    const dataStart = offset + 28;
    const packet: PcapPacket = {
      timestampNs: ticks,
      interfaceId: iface.info.id,
      linktype: iface.info.linktype,
      capturedLength,
      originalLength: view.getUint32(offset + 24, le),
      data: bytes.subarray(dataStart, dataStart + capturedLength),
    };
    const optionsStart = dataStart + pad4(capturedLength);
    const optionsEnd = offset + totalLength - 4;
    if (optionsStart < optionsEnd) {
      const comment = this.readComment(view, optionsStart, optionsEnd, fileOffset - offset);
      if (comment !== undefined) packet.comment = comment;
    }
    this.packet = packet;
  }

  /** SPB: no timestamp, no interface id (always interface 0), captured length = min(original, snaplen). */
  private decodeSimplePacket(
    bytes: Uint8Array,
    view: DataView,
    offset: number,
    totalLength: number,
    fileOffset: number,
  ) {
    if (totalLength < 16)
      throw new PcapFormatError(fileOffset + 4, `Simple Packet Block too short (${totalLength})`);
    const iface = this.section[0];
    if (iface === undefined)
      throw new PcapFormatError(fileOffset, 'Simple Packet Block before any Interface Description Block');
    const originalLength = view.getUint32(offset + 8, this.littleEndian);
    const snaplen = iface.info.snaplen;
    const capturedLength = Math.min(
      originalLength,
      snaplen === 0 ? maxCapturedBytes : snaplen,
      totalLength - 16,
    );
    const dataStart = offset + 12;
    this.packet = {
      timestampNs: 0n,
      interfaceId: iface.info.id,
      linktype: iface.info.linktype,
      capturedLength,
      originalLength,
      data: bytes.subarray(dataStart, dataStart + capturedLength),
    };
  }

  private readComment(view: DataView, start: number, end: number, toFileOffset: number): string | undefined {
    const le = this.littleEndian;
    for (let o = start; o < end; ) {
      const value = this.optionValue(view, o, end, toFileOffset + o);
      const code = view.getUint16(o, le);
      const length = view.getUint16(o + 2, le);
      if (code === optEndOfOpt) return undefined;
      if (code === optComment)
        return utf8.decode(new Uint8Array(view.buffer, view.byteOffset + value, length));
      o = value + pad4(length);
    }
    return undefined;
  }

  /** Bounds-checks one option header at `o` and returns where its value starts. */
  private optionValue(view: DataView, o: number, end: number, fileOffset: number): number {
    if (o + 4 > end) throw new PcapFormatError(fileOffset, 'option header runs past the end of its block');
    const length = view.getUint16(o + 2, this.littleEndian);
    if (o + 4 + length > end) {
      throw new PcapFormatError(fileOffset, `option of length ${length} runs past the end of its block`);
    }
    return o + 4;
  }

  private checkTrailer(view: DataView, offset: number, totalLength: number, le: boolean, fileOffset: number) {
    const trailer = view.getUint32(offset + totalLength - 4, le);
    if (trailer !== totalLength) {
      throw new PcapFormatError(
        fileOffset + totalLength - 4,
        `block trailing length ${trailer} differs from its leading length ${totalLength}`,
      );
    }
  }

  private skip(view: DataView, offset: number, avail: number, fileOffset: number): number {
    if (this.skipRemaining > 0) {
      if (avail === 0) return this.need(1);
      const n = Math.min(avail, this.skipRemaining);
      this.skipRemaining -= n;
      return n;
    }
    if (avail < 4) return this.need(4);
    const trailer = view.getUint32(offset, this.littleEndian);
    if (trailer !== this.skipTotalLength) {
      throw new PcapFormatError(
        fileOffset,
        `block trailing length ${trailer} differs from its leading length ${this.skipTotalLength}`,
      );
    }
    this.skipTrailerPending = false;
    return 4;
  }

  private need(n: number): 0 {
    this.needBytes = n;
    return 0;
  }
}

const hex = (n: number) => n.toString(16).padStart(8, '0');
