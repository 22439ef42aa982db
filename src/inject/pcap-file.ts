/**
 * Minimal classic-pcap (µs, LINKTYPE_ETHERNET) writer for the tcpreplay injector: streams frames from a
 * FrameSource to a file in 1 MiB chunks. (src/pcap/ owns the full reader/writer; this keeps inject/
 * independent of it.) Timestamps are i µs: tcpreplay ignores them with --pps/--mbps/--topspeed.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { DestinationGuard } from './safety.ts';
import type { FrameSource } from './types.ts';

export function writePcapFile(
  path: string,
  frames: FrameSource,
  count: number,
  guard?: DestinationGuard,
): { bytes: number } {
  const fd = openSync(path, 'w', 0o600);
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let used = 0;
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0);
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(262144, 16); // snaplen
    head.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    writeSync(fd, head);
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const f = frames.next(i);
      guard?.check(f, frames.kind, i);
      if (used + 16 + f.length > chunk.length) {
        writeSync(fd, chunk, 0, used);
        used = 0;
      }
      if (16 + f.length > chunk.length) {
        const h = Buffer.alloc(16);
        h.writeUInt32LE(Math.floor(i / 1e6), 0);
        h.writeUInt32LE(i % 1e6, 4);
        h.writeUInt32LE(f.length, 8);
        h.writeUInt32LE(f.length, 12);
        writeSync(fd, h);
        writeSync(fd, f);
      } else {
        chunk.writeUInt32LE(Math.floor(i / 1e6), used);
        chunk.writeUInt32LE(i % 1e6, used + 4);
        chunk.writeUInt32LE(f.length, used + 8);
        chunk.writeUInt32LE(f.length, used + 12);
        chunk.set(f, used + 16);
        used += 16 + f.length;
      }
      bytes += f.length;
    }
    if (used) writeSync(fd, chunk, 0, used);
    return { bytes };
  } finally {
    closeSync(fd);
  }
}
