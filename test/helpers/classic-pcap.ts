/**
 * A minimal classic-pcap writer for tests (µs timestamps, little-endian): 24-byte global header, then a
 * 16-byte record header per frame. Independent of src/pcap/ on purpose, so codec tests do not depend on it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function classicPcap(frames: Uint8Array[], linktype: number): Uint8Array {
  const total = 24 + frames.reduce((n, f) => n + 16 + f.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true); // snaplen
  v.setUint32(20, linktype, true);
  let o = 24;
  frames.forEach((f, i) => {
    v.setUint32(o, 1_700_000_000 + i, true);
    v.setUint32(o + 8, f.length, true);
    v.setUint32(o + 12, f.length, true);
    out.set(f, o + 16);
    o += 16 + f.length;
  });
  return out;
}

/** Writes the frames to a fresh temp pcap file and returns its path. */
export function writeTempPcap(frames: Uint8Array[], linktype: number, name = 'frames.pcap'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'chainprobe-codec-')), name);
  writeFileSync(path, classicPcap(frames, linktype));
  return path;
}
