/**
 * pcap reader throughput on a ~100k-packet pcap of 156-byte VXLAN frames (written by our PcapWriter, µs
 * magic so the peer can read it), against peers measured in the same run:
 *   - pcap-parser 0.2.1 (its stream API, same file): the package users named; µs pcap only
 *   - tshark -r FILE -T fields -e frame.number: wall time of the process (it also dissects every frame)
 *
 * `benchPcap({ onPacket })` runs the same loops with a per-packet callback on our reader (e.g. a dissector)
 * so the cost of analysis can be measured in the same harness; the default export dissects every packet.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Bench } from 'tinybench';
import { Dissection, dissect } from '../src/codec/stack.ts';
import {
  PcapngWriter,
  type PcapPacket,
  PcapWriter,
  readPackets,
  readPacketsSync,
} from '../src/pcap/index.ts';
import { type BenchFigure, withPeer } from './figure.ts';

interface PcapParser {
  parse(input: string | NodeJS.ReadableStream): NodeJS.EventEmitter;
}
const pcapParser = createRequire(import.meta.url)('pcap-parser') as PcapParser;

/** Outer Ethernet/IPv4/UDP 4789/VXLAN(vni 100) around inner Ethernet/IPv4/UDP + 64-byte probe = 156 bytes. */
export function vxlanFrame(seq: number): Uint8Array {
  const f = new Uint8Array(156);
  const v = new DataView(f.buffer);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], 0); // outer Ethernet
  f.set([0x45, 0, 0, 142, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14); // outer IPv4
  v.setUint16(34, 49152 + (seq % 16384)); // UDP source port: flow entropy
  v.setUint16(36, 4789);
  v.setUint16(38, 122);
  f.set([0x08, 0, 0, 0, 0, 0, 100, 0], 42); // VXLAN, VNI 100
  f.set([0x02, 0, 0, 0, 1, 2, 0x02, 0, 0, 0, 1, 1, 0x08, 0x00], 50); // inner Ethernet
  f.set([0x45, 0, 0, 92, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 168, 1, 1, 192, 168, 2, 1], 64); // inner IPv4
  v.setUint16(84, 40000);
  v.setUint16(86, 5000);
  v.setUint16(88, 72);
  v.setUint32(92, 0x43505242); // probe magic "CPRB"
  v.setUint32(96, seq);
  return f;
}

export interface PcapBenchOptions {
  packets?: number;
  /** called for every packet our reader yields (not for the peers) */
  onPacket?: (p: PcapPacket) => void;
}

export async function benchPcap(opts: PcapBenchOptions = {}): Promise<BenchFigure[]> {
  const count = opts.packets ?? 100_000;
  const onPacket = opts.onPacket ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'cpt-bench-pcap-'));
  try {
    const file = join(dir, 'vxlan.pcap');
    const w = PcapWriter.toFile(file, { precision: 'us', linktype: 1 });
    const t0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < count; i++) w.write(vxlanFrame(i), t0 + BigInt(i) * 10_000n);
    await w.close();
    const inMemory = readFileSync(file);
    // The same frames as pcapng with ns timestamps, spread over 3 interfaces (one per capture point).
    const fileNg = join(dir, 'vxlan.pcapng');
    const ng = PcapngWriter.toFile(fileNg);
    const ids = ['ingress', 'nat-out', 'esp-out'].map((name) => ng.addInterface({ name, linktype: 1 }));
    for (let i = 0; i < count; i++) ng.writePacket(ids[i % 3], vxlanFrame(i), t0 + BigInt(i) * 10_001n);
    await ng.close();

    const expectCount = (n: number, who: string) => {
      if (n !== count) throw new Error(`${who} read ${n} packets, expected ${count}`);
    };
    const bench = new Bench({ time: 4000, iterations: 5, warmupIterations: 1 });
    bench
      .add('ours sync', () => {
        let n = 0;
        for (const p of readPacketsSync(inMemory)) {
          onPacket(p);
          n++;
        }
        expectCount(n, 'readPacketsSync');
      })
      .add('ours stream', async () => {
        let n = 0;
        for await (const p of readPackets(file)) {
          onPacket(p);
          n++;
        }
        expectCount(n, 'readPackets');
      })
      .add('ours stream pcapng', async () => {
        let n = 0;
        for await (const p of readPackets(fileNg)) {
          onPacket(p);
          n++;
        }
        expectCount(n, 'readPackets pcapng');
      })
      .add('pcap-parser', async () => {
        const n = await new Promise<number>((resolve, reject) => {
          let seen = 0;
          const parser = pcapParser.parse(file);
          parser.on('packet', () => seen++);
          parser.on('error', reject);
          parser.on('end', () => resolve(seen));
        });
        expectCount(n, 'pcap-parser');
      });
    await bench.run();
    const pps = (name: string) => {
      const task = bench.getTask(name);
      const r = task?.result;
      if (!r || r.error || !r.latency.p50) throw new Error(`${name}: ${r?.error?.message ?? 'no result'}`);
      return count / (r.latency.p50 / 1000);
    };

    // tshark: whole-process wall time, median of 3.
    const tsharkPps = async (path: string) => {
      const runsMs: number[] = [];
      for (let k = 0; k < 3; k++) {
        const start = performance.now();
        const { stdout } = await execa('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.number'], {
          timeout: 120_000,
        });
        runsMs.push(performance.now() - start);
        expectCount(stdout.trimEnd().split('\n').length, 'tshark');
      }
      runsMs.sort((a, b) => a - b);
      return count / (runsMs[1] / 1000);
    };
    const tshark = await tsharkPps(file);
    const tsharkNg = await tsharkPps(fileNg);

    const sync = pps('ours sync');
    const stream = pps('ours stream');
    const parser = pps('pcap-parser');
    const frames = `${count.toLocaleString('en-US')} × 156-byte VXLAN frames${opts.onPacket ? ', with per-packet callback' : ''}`;
    return [
      withPeer(
        {
          group: 'pcap',
          name: `read file stream (readPackets), ${frames}`,
          unit: 'packets/s',
          value: stream,
          peer: { name: 'pcap-parser (stream, same file)', value: parser },
          target: '>= 2x pcap-parser (read + dissect)',
        },
        2,
      ),
      withPeer(
        {
          group: 'pcap',
          name: `read in memory (readPacketsSync), ${frames}`,
          unit: 'packets/s',
          value: sync,
          peer: { name: 'pcap-parser (stream, same file)', value: parser },
          target: '>= 3x pcap-parser',
        },
        3,
      ),
      withPeer(
        {
          group: 'pcap',
          name: `read file stream vs tshark, ${frames}`,
          unit: 'packets/s',
          value: stream,
          peer: { name: 'tshark -T fields -e frame.number (process wall time)', value: tshark },
          target: '>= 50x tshark (read + dissect)',
          notes: 'tshark also dissects',
        },
        50,
      ),
      withPeer(
        {
          group: 'pcap',
          name: `read pcapng file stream (ns EPBs, 3 interfaces), ${frames}`,
          unit: 'packets/s',
          value: pps('ours stream pcapng'),
          peer: { name: 'tshark -T fields -e frame.number (process wall time)', value: tsharkNg },
          target: '>= 5x tshark',
          notes: 'pcap-parser cannot read pcapng',
        },
        5,
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The figure is read + dissect: every packet our reader yields is walked by the dissector
 * (through VXLAN to the probe); the peers only read (pcap-parser) or read and dissect (tshark).
 */
export default async function (): Promise<BenchFigure[]> {
  const d = new Dissection();
  let inner = 0;
  const figures = await benchPcap({
    onPacket: (p) => {
      dissect(p.data, p.linktype, d);
      if (d.vxlanOffset >= 0 && d.udpOffset > d.vxlanOffset) inner++;
    },
  });
  // The dissector must really have walked through VXLAN into the inner UDP of every frame.
  if (inner === 0)
    throw new Error('the dissector did not reach the inner UDP header of the benchmark frames');
  return figures;
}
