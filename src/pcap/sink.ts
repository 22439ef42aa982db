import { closeSync, openSync, writeSync } from 'node:fs';
import { ChainprobeError } from '../errors.ts';

/**
 * Where a writer's bytes go. `write` receives a view of the writer's staging buffer, which is reused
 * afterwards: a sink that keeps bytes must copy them.
 */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  /** Resolves once everything written has been handed to the OS / consumer. */
  close(): Promise<void>;
}

/** Collects everything in memory; `toBuffer()` for tests and small captures. */
export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];
  private lengthBytes = 0;

  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.lengthBytes += bytes.length;
  }

  toBuffer(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.lengthBytes);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks.length = 0;
    this.chunks.push(out);
    return out;
  }

  async close(): Promise<void> {}
}

/** Writes to a file with synchronous writes of whole staging buffers (no copy, no backpressure needed). */
export class FileSink implements ByteSink {
  private fd: number | null;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new ChainprobeError(
        'E_PCAP_OPEN',
        `cannot create pcap file ${path}: ${(e as Error).message}`,
        true,
        { path },
      );
    }
  }

  write(bytes: Uint8Array): void {
    if (this.fd === null) throw new ChainprobeError('E_PCAP_WRITE', `pcap file ${this.path} is closed`);
    for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
  }

  async close(): Promise<void> {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Writes to a Node Writable (a pipe into tcpreplay, a socket, an HTTP response). Each flush is copied and
 * queued with `write()`; call `drained()` between bursts to respect backpressure.
 */
export class StreamSink implements ByteSink {
  private error: Error | null = null;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (e: Error) => {
      this.error = e;
    });
  }

  write(bytes: Uint8Array): void {
    this.throwIfFailed();
    this.stream.write(Buffer.from(bytes));
  }

  /** Resolves when the stream's buffer has room again (immediately if it has). */
  async drained(): Promise<void> {
    this.throwIfFailed();
    const w = this.stream as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (w.writableNeedDrain) await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.error) return reject(this.wrap(this.error));
      this.stream.once('error', (e: Error) => reject(this.wrap(e)));
      this.stream.end(() => resolve());
    });
  }

  private throwIfFailed() {
    if (this.error) throw this.wrap(this.error);
  }

  private wrap(e: Error) {
    return new ChainprobeError('E_PCAP_WRITE', `pcap output stream failed: ${e.message}`);
  }
}
