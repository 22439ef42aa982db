import type { PcapInterface, PcapPacket } from './packet.ts';

/**
 * The contract shared by the classic-pcap and pcapng decoders: decode one record at a time out of whatever
 * bytes the caller has, never reading past `end`, so the same code serves an in-memory file and a stream
 * cut into arbitrary chunks.
 */
export interface RecordDecoder {
  /**
   * Decode one record from bytes[offset, end). `fileOffset` is the absolute file offset of bytes[offset]
   * (for error messages). Returns the number of bytes consumed (> 0) and sets `packet` (null for non-packet
   * records), or returns 0 when more bytes are needed: then `needBytes` is the total, counted from
   * `offset`, required to make progress (always > end - offset). Throws PcapFormatError.
   */
  decode(bytes: Uint8Array, view: DataView, offset: number, end: number, fileOffset: number): number;
  packet: PcapPacket | null;
  needBytes: number;
  /** True when the input may end here without being truncated. */
  readonly atRecordBoundary: boolean;
}

export type InterfaceListener = (i: PcapInterface) => void;
