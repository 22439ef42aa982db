/**
 * Flow-export benchmark: datagrams/s of the generator (traffic/mix.ts: exporter state, pooled records with
 * times patched, IPv4/UDP headers with both checksums) for NetFlow v9, IPFIX and the production mix
 * `netflow-v9:50,ipfix:30,sflow:20` × 20 exporters, against scapy building the same-shaped NetFlow v9 and
 * IPFIX datagrams (IP/UDP/header/data set of 10 records; templates are every 20th datagram in both) in the
 * same run; and dissect + identify (analyze/identify) datagrams/s of the mix. Each tinybench iteration
 * runs BATCH operations. softflowd/nfreplay are not comparable in process (they read pcaps/nfcapd files
 * and send over sockets): see the notes.
 */
import { execa } from 'execa';
import { Bench } from 'tinybench';
import {
  type DatagramKey,
  identifiers,
  identifyDatagram,
  StreamTable,
} from '../src/analyze/identify/identify.ts';
import { Dissection, dissect, LINKTYPE_IPV4 } from '../src/codec/stack.ts';
import { createFlowMixSource } from '../src/traffic/mix.ts';
import { type BenchFigure, withPeer } from './figure.ts';

const BATCH = 1000;
const MIX = 'netflow-v9:50,ipfix:30,sflow:20';

/** scapy datagrams/s building IP/UDP/<header>/<data set of 10 × recordBytes>, for ~`seconds` s. */
async function scapyDatagramsPerSecond(version: 9 | 10, seconds: number): Promise<number> {
  const header =
    version === 9
      ? 'NetflowHeader(version=9)/NetflowHeaderV9(count=10, packageSequence=n, SourceID=2304)'
      : 'NetflowHeader(version=10)/NetflowHeaderV10(flowSequence=n * 10, ObservationDomainID=4096)';
  const recordBytes = version === 9 ? 41 : 56;
  const script = `
import logging, time
logging.getLogger('scapy.runtime').setLevel(logging.ERROR)
from scapy.all import IP, UDP
from scapy.layers.netflow import *
rec = bytes(${recordBytes})
n, t0 = 0, time.perf_counter()
while True:
    for _ in range(5):
        bytes(IP(src='10.10.10.100', dst='10.10.10.10', id=n & 0xffff)/UDP(sport=40000, dport=2055)/${header}
              /NetflowDataflowsetV9(templateID=256, records=[NetflowRecordV9(fieldValue=rec) for _ in range(10)]))
        n += 1
    dt = time.perf_counter() - t0
    if dt >= ${seconds}:
        break
print(n / dt)
`;
  const r = await execa('/usr/bin/python3', ['-c', script], { timeout: (seconds + 60) * 1000 });
  return Number(r.stdout.trim());
}

export default async function flowexportBench(): Promise<BenchFigure[]> {
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  const sources = {
    'netflow-v9': createFlowMixSource({
      mix: 'netflow-v9',
      exporters: 20,
      exporterBaseIp: '10.10.10.100',
      dstIp: '10.10.10.10',
    }),
    ipfix: createFlowMixSource({
      mix: 'ipfix',
      exporters: 20,
      exporterBaseIp: '10.10.10.100',
      dstIp: '10.10.10.10',
    }),
    [MIX]: createFlowMixSource({
      mix: MIX,
      exporters: 20,
      exporterBaseIp: '10.10.10.100',
      dstIp: '10.10.10.10',
    }),
  };
  let sink = 0;
  for (const [name, src] of Object.entries(sources)) {
    let i = 0;
    bench.add(`generate ${name}`, () => {
      for (let k = 0; k < BATCH; k++) sink ^= src.next(i++)[30];
    });
  }
  // Decode + identify: the mix's datagrams, pre-generated, dissected and keyed one after another.
  const mix = createFlowMixSource({
    mix: MIX,
    exporters: 20,
    exporterBaseIp: '10.10.10.100',
    dstIp: '10.10.10.10',
  });
  const frames = Array.from({ length: 4096 }, (_, i) => mix.next(i).slice());
  const d = new Dissection();
  const streams = new StreamTable();
  const chain = identifiers();
  const key: DatagramKey = { stream: 0, seq: 0, identifier: '' };
  let j = 0;
  bench.add('dissect + identify', () => {
    for (let k = 0; k < BATCH; k++) {
      dissect(frames[j++ & 4095], LINKTYPE_IPV4, d);
      if (identifyDatagram(d, chain, streams, key)) sink ^= key.seq;
    }
  });
  await bench.run();
  const rate = (n: string) => (bench.getTask(n)?.result?.throughput.mean ?? 0) * BATCH;
  const figures: BenchFigure[] = [];
  for (const [name, version] of [
    ['netflow-v9', 9],
    ['ipfix', 10],
  ] as const) {
    const scapy = await scapyDatagramsPerSecond(version, 2);
    figures.push(
      withPeer(
        {
          group: 'flowexport',
          name: `generate ${name} (20 exporters, 10 records/datagram)`,
          unit: 'datagrams/s',
          value: rate(`generate ${name}`),
          peer: {
            name: `scapy IP/UDP/NetflowHeaderV${version}/NetflowDataflowsetV9 (10 records)`,
            value: scapy,
          },
          target: '>= 1M/s and >= 500x scapy',
          notes: 'templates every 20th datagram; IPv4 and UDP checksums per datagram',
        },
        500,
      ),
    );
    const last = figures[figures.length - 1];
    last.pass = last.pass === true && last.value >= 1e6;
  }
  figures.push({
    group: 'flowexport',
    name: `generate ${MIX} (20 exporters per kind)`,
    unit: 'datagrams/s',
    value: rate(`generate ${MIX}`),
    target: '>= 1M/s',
    pass: rate(`generate ${MIX}`) >= 1e6,
  });
  figures.push({
    group: 'flowexport',
    name: `dissect + identify, ${MIX}`,
    unit: 'datagrams/s',
    value: rate('dissect + identify'),
    target: '>= 1M/s',
    pass: rate('dissect + identify') >= 1e6,
    notes: 'flow-export identity (exporter + source id / domain / agent + sequence)',
  });
  if (sink === 0.5) console.log(sink);
  return figures;
}
