import type { ByteSink } from './sink.ts';

/**
 * The writers' output buffer: records are encoded in place (DataView, explicit little-endian) and handed to
 * the sink in large slices, so writing a packet allocates nothing.
 */
export class StagingBuffer {
  bytes: Uint8Array;
  view: DataView;
  /** bytes staged and not yet given to the sink */
  length = 0;

  constructor(
    private readonly sink: ByteSink,
    capacityBytes = 1 << 20,
  ) {
    this.bytes = new Uint8Array(capacityBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `n` bytes and returns the offset where they go. */
  reserve(n: number): number {
    if (this.length + n > this.bytes.length) {
      this.flush();
      if (n > this.bytes.length) {
        this.bytes = new Uint8Array(n);
        this.view = new DataView(this.bytes.buffer);
      }
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  flush(): void {
    if (this.length === 0) return;
    this.sink.write(this.bytes.subarray(0, this.length));
    this.length = 0;
  }
}
