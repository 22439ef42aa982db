import { ClassicPcapDecoder, classicMagic } from './classic-decoder.ts';
import { PcapFormatError } from './format-error.ts';
import type { PcapInterface, PcapPacket } from './packet.ts';
import { blockType, PcapngDecoder } from './pcapng-decoder.ts';
import type { InterfaceListener, RecordDecoder } from './record-decoder.ts';

/**
 * Incremental decoder for a whole capture file, either format: sniffs the magic, then hands each record to
 * the classic or the pcapng decoder. Push-style and allocation-free apart from the packet record, so the
 * sync reader, the stream reader and anything else (a capture multiplexer) drive the same code.
 *
 *   const d = new PcapDecoder();
 *   for (let off = 0, n; (n = d.decode(buf, off, buf.length)) > 0; off += n) if (d.packet) use(d.packet);
 *   d.finish(buf.length - off);   // throws if the input ended inside a record
 */
export class PcapDecoder {
  /** The packet decoded by the last successful decode(), or null if that record was not a packet. */
  packet: PcapPacket | null = null;
  /** After decode() returned 0: how many bytes, from the offset passed, are needed to make progress. */
  needBytes = 4;
  /** Absolute offset in the input of the next byte decode() expects. */
  fileOffset = 0;
  /** Every interface seen so far, by id. */
  readonly interfaces: PcapInterface[] = [];
  private inner: RecordDecoder | null = null;
  private bytes: Uint8Array | null = null;
  private view: DataView | null = null;
  private readonly listener: InterfaceListener;

  constructor(onInterface?: InterfaceListener) {
    this.listener = (i) => {
      this.interfaces.push(i);
      onInterface?.(i);
    };
  }

  /** Decode one record from bytes[offset, end): bytes consumed (> 0), or 0 when more are needed. */
  decode(bytes: Uint8Array, offset: number, end: number): number {
    if (bytes !== this.bytes) {
      // One DataView per input buffer/chunk, not per record.
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const view = this.view as DataView;
    if (this.inner === null) {
      if (end - offset < 4) {
        this.needBytes = 4;
        return 0;
      }
      this.inner = this.sniff(view.getUint32(offset, false));
    }
    const n = this.inner.decode(bytes, view, offset, end, this.fileOffset);
    this.packet = this.inner.packet;
    this.needBytes = this.inner.needBytes;
    this.fileOffset += n;
    return n;
  }

  /**
   * Declare the end of input, with `bufferedBytes` not yet consumed. Throws PcapFormatError if the input was
   * empty, has no complete header, or ends inside a record.
   */
  finish(bufferedBytes: number): void {
    if (this.inner === null) {
      throw new PcapFormatError(
        this.fileOffset,
        bufferedBytes === 0
          ? 'empty input: no pcap or pcapng header'
          : `input ends after ${bufferedBytes} byte(s), inside the magic number`,
      );
    }
    if (bufferedBytes === 0 && this.inner.atRecordBoundary) return;
    const skippedAt = this.inner instanceof PcapngDecoder ? this.inner.pendingBlockFileOffset : undefined;
    if (skippedAt !== undefined) {
      throw new PcapFormatError(skippedAt, 'truncated: input ends inside this block');
    }
    throw new PcapFormatError(
      this.fileOffset,
      `truncated: the record here needs ${this.needBytes} bytes, the input ends after ${bufferedBytes}`,
    );
  }

  private sniff(magic: number): RecordDecoder {
    switch (magic) {
      case classicMagic.usLittleEndian:
        return new ClassicPcapDecoder(true, false, this.listener);
      case classicMagic.usBigEndian:
        return new ClassicPcapDecoder(false, false, this.listener);
      case classicMagic.nsLittleEndian:
        return new ClassicPcapDecoder(true, true, this.listener);
      case classicMagic.nsBigEndian:
        return new ClassicPcapDecoder(false, true, this.listener);
      case blockType.sectionHeader:
        return new PcapngDecoder(this.listener);
      default:
        throw new PcapFormatError(
          this.fileOffset,
          `unknown magic 0x${magic.toString(16).padStart(8, '0')}: neither pcap (µs/ns) nor pcapng`,
        );
    }
  }
}
