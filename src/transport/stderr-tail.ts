/**
 * A pass-through for a process's stderr that remembers its last few KiB, so an exit can be explained
 * ("No such device exists", "not found") even when the caller consumed or ignored the stream.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class StderrTail extends Transform {
  private buf = '';
  constructor(private readonly maxChars = 4096) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf = (this.buf + chunk.toString('utf8')).slice(-this.maxChars);
    cb(null, chunk);
  }
  text(): string {
    return this.buf;
  }
}
