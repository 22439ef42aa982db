/**
 * One-way delays between two capture points from the packets both saw: a probe is keyed by its header
 * (run, flow, seq), any other IPv4 packet by (source, destination, IP id, protocol, length). Forward is
 * what P's side sent (its source is one of `fromP`), reverse the rest. These feed the minimum-delay method.
 */
import { ipv4ToString } from '../codec/address.ts';
import { readU16, readU32 } from '../codec/bytes.ts';
import { readProbe } from '../codec/probe.ts';
import { Dissection, dissect } from '../codec/stack.ts';
import type { PcapPacket } from '../pcap/packet.ts';

interface Seen {
  ts: bigint;
  src: string;
}

async function index(packets: AsyncIterable<PcapPacket>): Promise<Map<string, Seen>> {
  const d = new Dissection();
  const out = new Map<string, Seen>();
  for await (const p of packets) {
    try {
      dissect(p.data, p.linktype, d);
    } catch {
      continue;
    }
    if (d.ipv4Offset < 0) continue;
    const f = d.frame;
    const ip = d.outerIpv4Offset >= 0 ? d.outerIpv4Offset : d.ipv4Offset;
    const src = ipv4ToString(readU32(f, ip + 12));
    let key: string;
    if (d.probeStatus === 'ok') {
      const pr = readProbe(f, d.probeOffset);
      key = `probe ${pr.runId}/${pr.flowId}/${pr.seq}`;
    } else
      key = `ip ${src}>${ipv4ToString(readU32(f, ip + 16))} id ${readU16(f, ip + 4)} p ${f[ip + 9]} len ${readU16(f, ip + 2)}`;
    if (!out.has(key)) out.set(key, { ts: p.timestampNs, src });
  }
  return out;
}

export interface OneWayDelays {
  forwardNs: number[];
  reverseNs: number[];
}

export async function oneWayDelays(
  atP: AsyncIterable<PcapPacket>,
  atQ: AsyncIterable<PcapPacket>,
  fromP: readonly string[],
): Promise<OneWayDelays> {
  const [p, q] = await Promise.all([index(atP), index(atQ)]);
  const out: OneWayDelays = { forwardNs: [], reverseNs: [] };
  for (const [key, a] of p) {
    const b = q.get(key);
    if (!b) continue;
    if (fromP.includes(a.src)) out.forwardNs.push(Number(b.ts - a.ts));
    else out.reverseNs.push(Number(a.ts - b.ts));
  }
  return out;
}
