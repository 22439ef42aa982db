/**
 * The pcap tcpreplay replays: frames from a FrameSource through the project's PcapWriter (classic µs pcap,
 * Ethernet). Timestamps are i µs: tcpreplay ignores them with --pps/--mbps/--topspeed. Every frame passes
 * the safety guard on its way to the file.
 */
import { PcapWriter } from '../pcap/pcap-writer.ts';
import type { DestinationGuard } from './safety.ts';
import type { FrameSource } from './types.ts';

export async function writePcapFile(
  path: string,
  frames: FrameSource,
  count: number,
  guard?: DestinationGuard,
): Promise<{ bytes: number }> {
  const writer = PcapWriter.toFile(path, { precision: 'us', linktype: 1 });
  let bytes = 0;
  try {
    for (let i = 0; i < count; i++) {
      const f = frames.next(i);
      guard?.check(f, frames.kind, i);
      writer.write(f, BigInt(i) * 1000n);
      bytes += f.length;
    }
  } finally {
    await writer.close();
  }
  return { bytes };
}
