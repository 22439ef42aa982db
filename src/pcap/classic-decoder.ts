import { PcapFormatError } from './format-error.ts';
import { maxCapturedBytes, type PcapInterface, type PcapPacket } from './packet.ts';
import type { InterfaceListener, RecordDecoder } from './record-decoder.ts';

/** Magic numbers as read big-endian from the first 4 bytes of a classic pcap file. */
export const classicMagic = {
  usBigEndian: 0xa1b2c3d4,
  usLittleEndian: 0xd4c3b2a1,
  nsBigEndian: 0xa1b23c4d,
  nsLittleEndian: 0x4d3cb2a1,
} as const;

const fileHeaderBytes = 24;
const recordHeaderBytes = 16;

/** Classic libpcap format: a 24-byte file header, then 16-byte record headers each followed by data. */
export class ClassicPcapDecoder implements RecordDecoder {
  packet: PcapPacket | null = null;
  needBytes = 0;
  private headerDone = false;
  private linktype = 0;
  private readonly fracToNs: bigint;

  constructor(
    private readonly littleEndian: boolean,
    nanosecond: boolean,
    private readonly onInterface: InterfaceListener,
  ) {
    this.fracToNs = nanosecond ? 1n : 1000n;
  }

  get atRecordBoundary(): boolean {
    return this.headerDone;
  }

  decode(bytes: Uint8Array, view: DataView, offset: number, end: number, fileOffset: number): number {
    const le = this.littleEndian;
    const avail = end - offset;
    if (!this.headerDone) {
      if (avail < fileHeaderBytes) return this.need(fileHeaderBytes);
      const major = view.getUint16(offset + 4, le);
      const minor = view.getUint16(offset + 6, le);
      if (major !== 2)
        throw new PcapFormatError(fileOffset + 4, `unsupported pcap version ${major}.${minor}`);
      const snaplen = view.getUint32(offset + 16, le);
      // The upper bits of this field carry FCS information (pcap spec); the link type is the low 16.
      this.linktype = view.getUint32(offset + 20, le) & 0xffff;
      this.headerDone = true;
      this.packet = null;
      const iface: PcapInterface = {
        id: 0,
        linktype: this.linktype,
        tsresolNs: this.fracToNs === 1n ? 1 : 1000,
        snaplen,
        sectionIndex: 0,
      };
      this.onInterface(iface);
      return fileHeaderBytes;
    }
    if (avail < recordHeaderBytes) return this.need(recordHeaderBytes);
    const capturedLength = view.getUint32(offset + 8, le);
    if (capturedLength > maxCapturedBytes) {
      throw new PcapFormatError(
        fileOffset + 8,
        `record captured length ${capturedLength} exceeds the maximum ${maxCapturedBytes}`,
      );
    }
    const recordBytes = recordHeaderBytes + capturedLength;
    if (avail < recordBytes) return this.need(recordBytes);
    const seconds = view.getUint32(offset, le);
    const fraction = view.getUint32(offset + 4, le);
    const dataStart = offset + recordHeaderBytes;
    this.packet = {
      timestampNs: BigInt(seconds) * 1_000_000_000n + BigInt(fraction) * this.fracToNs,
      interfaceId: 0,
      linktype: this.linktype,
      capturedLength,
      originalLength: view.getUint32(offset + 12, le),
      data: bytes.subarray(dataStart, dataStart + capturedLength),
    };
    return recordBytes;
  }

  private need(n: number): 0 {
    this.needBytes = n;
    return 0;
  }
}
