import { type ByteSink, MemorySink } from './sink.ts';
import { StagingBuffer } from './staging-buffer.ts';
import { writeError } from './write-error.ts';

/** What the pcap and pcapng writers share: a staging buffer in front of a sink, flush, toBuffer, close. */
export abstract class StagedWriter {
  packetCount = 0;
  protected readonly staging: StagingBuffer;
  protected closed = false;

  constructor(readonly sink: ByteSink = new MemorySink()) {
    this.staging = new StagingBuffer(sink);
  }

  /** Hands staged bytes to the sink now (e.g. so a reader on the other end of a pipe sees them). */
  flush(): void {
    this.staging.flush();
  }

  /** The whole file so far; only for writers on the default in-memory sink. */
  toBuffer(): Uint8Array {
    if (!(this.sink instanceof MemorySink)) throw writeError('toBuffer() needs the in-memory sink');
    this.staging.flush();
    return this.sink.toBuffer();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.staging.flush();
    this.closed = true;
    await this.sink.close();
  }

  protected assertOpen(what: string): void {
    if (this.closed) throw writeError(`${what} after close()`);
  }
}
