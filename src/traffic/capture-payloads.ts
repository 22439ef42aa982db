/**
 * A user's capture (pcap or pcapng, any linktype the dissector knows) as replayable UDP payloads: for each
 * packet the innermost UDP datagram — VXLAN-mirrored traffic (outer UDP 4789) is decapsulated, so the
 * mirrored exporter's datagram is what is kept — its payload and its original destination port, grouped by
 * that port into lanes (NetFlow/IPFIX to 2055, sFlow to 6343 reach the right collector again).
 *
 * Packets that are not UDP, IPv4 fragments (the datagram is not whole) and undecodable frames are skipped
 * and counted, never silently. A capture with no UDP payload at all is bad input naming the file.
 *
 *   const c = await readCapturePayloads('capture.pcap');
 *   c.lanes → [{ port: 2055, payloads: [...] }, { port: 6343, payloads: [...] }]
 *   describeCapturePayloads(c) → 'replaying 12 000 UDP payloads of 12 345 packets; skipped 345: 300 not UDP, 45 fragments'
 */
import { readU16 } from '../codec/bytes.ts';
import { DecodeError } from '../codec/errors.ts';
import { IP_PROTO_UDP } from '../codec/ipv4.ts';
import { Dissection, dissect } from '../codec/stack.ts';
import { ChainprobeError } from '../errors.ts';
import { readPackets } from '../pcap/index.ts';

/** Why a packet was not replayed. */
export type SkipReason = 'not UDP' | 'fragments' | 'undecodable';

export interface ReplayLane {
  /** the payloads' original UDP destination port */
  port: number;
  /** the UDP payloads, in capture order (copies: the reader's chunks are not kept) */
  payloads: Uint8Array[];
}

export interface CapturePayloads {
  file: string;
  packets: number;
  /** UDP payloads kept, over all lanes */
  payloads: number;
  /** the largest payload's bytes */
  largestBytes: number;
  /** by destination port, in order of first appearance */
  lanes: ReplayLane[];
  skipped: Record<SkipReason, number>;
}

export async function readCapturePayloads(file: string): Promise<CapturePayloads> {
  const d = new Dissection();
  const byPort = new Map<number, ReplayLane>();
  const skipped: Record<SkipReason, number> = { 'not UDP': 0, fragments: 0, undecodable: 0 };
  let packets = 0;
  let payloads = 0;
  let largestBytes = 0;
  // the reader's own typed errors (E_PCAP_OPEN, E_PCAP_MALFORMED: bad input, exit 2) pass through
  for await (const p of readPackets(file)) {
    packets++;
    try {
      dissect(p.data, p.linktype, d);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      skipped.undecodable++;
      continue;
    }
    const reason = skipReason(d);
    if (reason) {
      skipped[reason]++;
      continue;
    }
    const port = readU16(d.frame, d.udpOffset + 2);
    let lane = byPort.get(port);
    if (!lane) {
      lane = { port, payloads: [] };
      byPort.set(port, lane);
    }
    lane.payloads.push(d.frame.slice(d.appOffset, d.appOffset + d.appLength));
    payloads++;
    largestBytes = Math.max(largestBytes, d.appLength);
  }
  const capture: CapturePayloads = {
    file,
    packets,
    payloads,
    largestBytes,
    lanes: [...byPort.values()],
    skipped,
  };
  if (payloads === 0)
    throw new ChainprobeError(
      'E_CONFIG',
      `${file}: no UDP datagram to replay (${describeCapturePayloads(capture)})`,
      true,
      { path: file },
    );
  return capture;
}

/** The innermost IPv4 header must carry UDP, whole: a fragment (MF or offset) is not a datagram to replay. */
function skipReason(d: Dissection): SkipReason | null {
  if (d.ipv4Offset < 0) return 'not UDP';
  if (d.fragment) return 'fragments';
  // the UDP header must be the innermost IPv4's own (VXLAN-mirrored TCP has an outer UDP only)
  if (d.frame[d.ipv4Offset + 9] !== IP_PROTO_UDP || d.udpOffset < d.ipv4Offset || d.appOffset < d.udpOffset)
    return 'not UDP';
  return null;
}

/** 'replaying 12 000 UDP payloads of 12 345 packets; skipped 345: 300 not UDP, 45 fragments' */
export function describeCapturePayloads(c: CapturePayloads): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const reasons = Object.entries(c.skipped).filter(([, k]) => k > 0);
  const total = reasons.reduce((s, [, k]) => s + k, 0);
  const skipped = total ? `; skipped ${n(total)}: ${reasons.map(([r, k]) => `${n(k)} ${r}`).join(', ')}` : '';
  return `replaying ${n(c.payloads)} UDP payloads of ${n(c.packets)} packets${skipped}`;
}
