/**
 * Codec benchmark: frames/s of the VXLAN template (patch per packet: seq, tx time, ports, ids, all
 * checksums) for the 156-byte frame (64-byte inner payload) and the 8000-byte-payload frame, against
 * scapy building the same frame in the same run; and dissections/s of those frames (no peer: the pcap
 * bench compares read+dissect with pcap-parser).
 * Each tinybench iteration runs BATCH operations, so the timer's own cost is not what is measured.
 */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Bench } from 'tinybench';
import { ChainOracle } from '../src/chain/oracle.ts';
import { loadProfile } from '../src/chain/profile.ts';
import { Dissection, dissect, LINKTYPE_ETHERNET } from '../src/codec/stack.ts';
import { createVxlanTemplate, type VxlanFrameSpec } from '../src/codec/template.ts';
import { type BenchFigure, withPeer } from './figure.ts';

const BATCH = 1000;

// The frame is the one chainprobe really sends to the VPP chain: the profile's traffic, via the oracle.
const profile = loadProfile(fileURLToPath(new URL('../fixtures/vpp-testing.json', import.meta.url)));
const oracle = new ChainOracle(profile);
const { outer: o, inner: i } = profile.traffic;

function spec(payloadBytes: number): VxlanFrameSpec {
  const s = oracle.templateSpec({ payloadBytes, runId: 1, flowId: 1 });
  // The costlier case: the outer UDP checksum covers the whole inner frame.
  return { ...s, outer: { ...s.outer, udpChecksum: true } };
}

/** scapy frames/s for the same frame shape, measured for ~`seconds` s in Debian's python3. */
async function scapyFramesPerSecond(payloadBytes: number, seconds: number): Promise<number> {
  const script = `
import logging, sys, time
logging.getLogger('scapy.runtime').setLevel(logging.ERROR)
from scapy.all import Ether, IP, UDP, Raw
from scapy.layers.vxlan import VXLAN
load = bytes(${payloadBytes})
n, t0 = 0, time.perf_counter()
while True:
    for _ in range(20):
        bytes(Ether(src='${o.srcMac}', dst='${o.dstMac}')/IP(src='${o.srcIp}', dst='${o.dstIp}', id=n & 0xffff)
              /UDP(sport=${o.srcPortBase} + n % ${o.srcPortCount}, dport=${o.dstPort})/VXLAN(flags=${o.vxlanFlags}, vni=${o.vni})
              /Ether(src='${i.srcMac}', dst='${i.dstMac}')/IP(src='${i.srcIp}', dst='${i.dstIp}', id=n & 0xffff)
              /UDP(sport=${i.srcPort}, dport=${i.dstPort})/Raw(load))
        n += 1
    dt = time.perf_counter() - t0
    if dt >= ${seconds}:
        break
print(n / dt)
`;
  const r = await execa('/usr/bin/python3', ['-c', script], { timeout: (seconds + 30) * 1000 });
  return Number(r.stdout.trim());
}

export default async function codecBench(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  const cases = [
    { label: '156-byte VXLAN frame (64-byte payload)', payloadBytes: 64, minRatio: 1000 },
    { label: '8000-byte-payload VXLAN frame', payloadBytes: 8000, minRatio: 300 },
  ];
  const d = new Dissection();
  let seq = 0;
  let sink = 0;
  for (const c of cases) {
    const t = createVxlanTemplate(spec(c.payloadBytes));
    const frame = t.patch(0, 0n).slice();
    // A plain counter as the clock: the template cost, not hrtime's, is what is measured.
    bench.add(`template ${c.label}`, () => {
      for (let i = 0; i < BATCH; i++, seq++) sink ^= t.patch(seq, BigInt(seq))[0];
    });
    bench.add(`dissect ${c.label}`, () => {
      for (let i = 0; i < BATCH; i++) sink ^= dissect(frame, LINKTYPE_ETHERNET, d).count;
    });
  }
  await bench.run();
  const rate = (name: string) => (bench.getTask(name)?.result?.throughput.mean ?? 0) * BATCH;
  for (const c of cases) {
    const scapy = await scapyFramesPerSecond(c.payloadBytes, 2);
    figures.push(
      withPeer(
        {
          group: 'codec',
          name: `template build, ${c.label}`,
          unit: 'frames/s',
          value: rate(`template ${c.label}`),
          peer: { name: 'scapy bytes(Ether()/IP()/UDP()/VXLAN()/Ether()/IP()/UDP()/Raw())', value: scapy },
          target: `>= ${c.minRatio}x scapy`,
          notes: 'patch per packet: seq, tx time, sport, ids, all checksums (outer UDP checksum on)',
        },
        c.minRatio,
      ),
    );
    figures.push({
      group: 'codec',
      name: `dissect, ${c.label}`,
      unit: 'frames/s',
      value: rate(`dissect ${c.label}`),
      target: '>= 1M/s',
      pass: rate(`dissect ${c.label}`) >= 1e6,
    });
  }
  if (sink === 0.5) console.log(sink); // keep the loops observable
  return figures;
}
