/**
 * One pcapng per run with one interface block per capture point (named after it), packets merged by
 * time: Wireshark shows the journey of every probe across the chain in one file (FEATURES §2.5).
 */
import { statSync } from 'node:fs';
import { mergeByTime } from '../analyze/analyze.ts';
import type { Profile } from '../chain/profile.ts';
import { PcapngWriter } from '../pcap/pcapng-writer.ts';
import { readPackets } from '../pcap/reader.ts';

/** Above this total capture size the bundle is skipped (the per-point pcaps remain). */
const MAX_BUNDLE_BYTES = 2 * 1024 ** 3;

export async function writeRunPcapng(
  path: string,
  profile: Profile,
  pcapPaths: Record<string, string>,
): Promise<string | null> {
  const names = profile.captures.map((c) => c.name).filter((n) => pcapPaths[n]);
  const total = names.reduce((s, n) => s + (safeSize(pcapPaths[n]) ?? 0), 0);
  if (total > MAX_BUNDLE_BYTES) return null;
  const writer = PcapngWriter.toFile(path);
  const ids = new Map<string, number>();
  const streams = names.map((n, i) =>
    readPackets(pcapPaths[n], {
      onInterface: (itf) => {
        const cap = profile.captures.find((c) => c.name === n)!;
        ids.set(
          `${i}`,
          writer.addInterface({
            name: n,
            description: `${cap.hop} ${cap.interface} (${cap.direction})`,
            linktype: itf.linktype,
            snaplen: itf.snaplen,
          }),
        );
      },
    }),
  );
  for await (const { index, packet } of mergeByTime(streams)) {
    writer.writePacket(ids.get(`${index}`)!, packet.data, packet.timestampNs, {
      originalLength: packet.originalLength,
    });
  }
  await writer.close();
  return path;
}

function safeSize(p: string): number | null {
  try {
    return statSync(p).size;
  } catch {
    return null;
  }
}
