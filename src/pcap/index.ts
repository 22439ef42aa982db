/**
 * pcap and pcapng: streaming reader (file, Node stream, async iterable) and in-memory reader with ns
 * `bigint` timestamps; classic pcap and pcapng writers. See reader.ts for the lifetime of packet data.
 */
export type { PcapInterface, PcapPacket } from './packet.ts';
export { maxBufferedBlockBytes, maxCapturedBytes } from './packet.ts';
export { PcapFormatError } from './format-error.ts';
export { readPackets, readPacketsSync, type ReadOptions } from './reader.ts';
export { PcapDecoder } from './decoder.ts';
export { PcapWriter, type PcapWriterOptions } from './pcap-writer.ts';
export {
  PcapngWriter,
  type PcapngInterfaceOptions,
  type PcapngPacketOptions,
  type PcapngWriterOptions,
} from './pcapng-writer.ts';
export { type ByteSink, FileSink, MemorySink, StreamSink } from './sink.ts';
