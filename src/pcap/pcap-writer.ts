import { maxCapturedBytes } from './packet.ts';
import { type ByteSink, FileSink, MemorySink, StreamSink } from './sink.ts';
import { StagedWriter } from './staged-writer.ts';
import { checkUint, writeError } from './write-error.ts';

export interface PcapWriterOptions {
  /** 'ns' writes magic a1b23c4d (default); 'us' writes the classic a1b2c3d4. */
  precision?: 'ns' | 'us';
  /** LINKTYPE_*, default 1 (ethernet) */
  linktype?: number;
  /** default 262144; longer packets are truncated to it (originalLength keeps the real length) */
  snaplen?: number;
}

const nsPerSecond = 1_000_000_000n;
const maxSeconds = 2n ** 32n;

/**
 * Classic pcap writer (little-endian). Writes go to a staging buffer and reach the sink when it fills, on
 * flush() and on close().
 *
 *   const w = PcapWriter.toFile('out.pcap', { linktype: 1 });
 *   w.write(frame, 1700000000123456789n);
 *   await w.close();
 */
export class PcapWriter extends StagedWriter {
  readonly precision: 'ns' | 'us';
  readonly linktype: number;
  readonly snaplen: number;

  constructor(opts: PcapWriterOptions = {}, sink: ByteSink = new MemorySink()) {
    super(sink);
    this.precision = opts.precision ?? 'ns';
    this.linktype = opts.linktype ?? 1;
    this.snaplen = opts.snaplen ?? maxCapturedBytes;
    checkUint('linktype', this.linktype, 0xffff);
    checkUint('snaplen', this.snaplen, maxCapturedBytes);
    if (this.snaplen === 0) throw writeError('snaplen must be > 0');
    const at = this.staging.reserve(24);
    const v = this.staging.view;
    v.setUint32(at, this.precision === 'ns' ? 0xa1b23c4d : 0xa1b2c3d4, true);
    v.setUint16(at + 4, 2, true);
    v.setUint16(at + 6, 4, true);
    v.setUint32(at + 8, 0, true); // thiszone
    v.setUint32(at + 12, 0, true); // sigfigs
    v.setUint32(at + 16, this.snaplen, true);
    v.setUint32(at + 20, this.linktype, true);
  }

  static toFile(path: string, opts: PcapWriterOptions = {}): PcapWriter {
    return new PcapWriter(opts, new FileSink(path));
  }

  static toStream(stream: NodeJS.WritableStream, opts: PcapWriterOptions = {}): PcapWriter {
    return new PcapWriter(opts, new StreamSink(stream));
  }

  /** Appends one packet record. `timestampNs` is absolute ns since epoch (µs precision truncates). */
  write(data: Uint8Array, timestampNs: bigint, originalLength = data.length): void {
    this.assertOpen('write');
    if (timestampNs < 0n || timestampNs / nsPerSecond >= maxSeconds) {
      throw writeError(`timestamp ${timestampNs} ns does not fit a pcap record (0 .. 2^32 s)`);
    }
    const capturedLength = Math.min(data.length, this.snaplen);
    if (!Number.isInteger(originalLength) || originalLength < data.length || originalLength > 0xffffffff) {
      throw writeError(
        `originalLength ${originalLength} is smaller than the data (${data.length} bytes) or not a u32`,
      );
    }
    const seconds = Number(timestampNs / nsPerSecond);
    const fractionNs = Number(timestampNs % nsPerSecond);
    const at = this.staging.reserve(16 + capturedLength);
    const v = this.staging.view;
    v.setUint32(at, seconds, true);
    v.setUint32(at + 4, this.precision === 'ns' ? fractionNs : Math.floor(fractionNs / 1000), true);
    v.setUint32(at + 8, capturedLength, true);
    v.setUint32(at + 12, originalLength, true);
    this.staging.bytes.set(capturedLength === data.length ? data : data.subarray(0, capturedLength), at + 16);
    this.packetCount++;
  }
}
