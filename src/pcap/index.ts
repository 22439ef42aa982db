/**
 * pcap and pcapng: streaming reader (file, Node stream, async iterable) and in-memory reader with ns
 * `bigint` timestamps; classic pcap and pcapng writers. See reader.ts for the lifetime of packet data.
 */

export { PcapDecoder } from './decoder.ts';
export { PcapFormatError } from './format-error.ts';
export type { PcapInterface, PcapPacket } from './packet.ts';
export { maxBufferedBlockBytes, maxCapturedBytes } from './packet.ts';
export { PcapWriter, type PcapWriterOptions } from './pcap-writer.ts';
export {
  type PcapngInterfaceOptions,
  type PcapngPacketOptions,
  PcapngWriter,
  type PcapngWriterOptions,
} from './pcapng-writer.ts';
export { type ReadOptions, readPackets, readPacketsSync } from './reader.ts';
export { type ByteSink, FileSink, MemorySink, StreamSink } from './sink.ts';
