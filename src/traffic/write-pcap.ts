/**
 * Writes `count` frames of a flow-export mix to a pcap (Ethernet, ns timestamps spaced 1/pps), for
 * `chainprobe craft --traffic`: the file replays with tcpreplay and opens in tshark.
 */
import { PcapWriter } from '../pcap/pcap-writer.ts';
import { createFlowMixSource, type FlowMixOptions } from './mix.ts';

export async function writeFlowMixPcap(
  path: string,
  count: number,
  pps: number,
  o: Omit<FlowMixOptions, 'frame' | 'startMs' | 'msPerFrame'>,
): Promise<{ frames: number; exporters: number }> {
  const startMs = Date.now();
  const src = createFlowMixSource({ ...o, frame: 'ethernet', startMs, msPerFrame: 1000 / pps });
  const w = PcapWriter.toFile(path, { precision: 'ns', linktype: 1 });
  const t0 = BigInt(startMs) * 1_000_000n;
  const spacingNs = BigInt(Math.round(1e9 / pps));
  for (let i = 0; i < count; i++) w.write(src.next(i), t0 + BigInt(i) * spacingNs);
  await w.close();
  return { frames: count, exporters: src.exporters.length };
}
