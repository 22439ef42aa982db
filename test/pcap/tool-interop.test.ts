/**
 * The reader against captures written by other tools: tcpdump (µs and ns) on a namespace's loopback, then
 * editcap/mergecap conversions to pcapng / µs pcap / ns pcap. tshark is the oracle for count, timestamps
 * (as exact ns integers), lengths, interface ids and payload bytes (md5).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type PcapInterface, readPackets, readPacketsSync } from '../../src/pcap/index.ts';
import { NetnsLab } from './netns-capture.ts';
import { type FrameSummary, summarize, tsharkFrames } from './oracle.ts';

// 0-byte to 60000-byte UDP payloads (lo MTU is 65536: no fragmentation), 20 datagrams.
const sizesBytes = [
  0, 1, 2, 3, 7, 8, 64, 100, 333, 1000, 1472, 1473, 2000, 4096, 8000, 9000, 16000, 32000, 60000, 5,
];

const lab = new NetnsLab();
let dir = '';
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cpt-pcap-'));
  await lab.create();
  for (const [name, extra] of [
    ['tcpdump-us.pcap', []],
    ['tcpdump-ns.pcap', ['--time-stamp-precision=nano']],
  ] as const) {
    const tcpdump = await lab.startTcpdump([...extra, '-w', file(name)], sizesBytes.length);
    await lab.sendUdp(sizesBytes);
    await tcpdump.done;
  }
  const run = (cmd: string, args: string[]) => execa(cmd, args, { timeout: 30_000 });
  await run('editcap', ['-F', 'pcapng', file('tcpdump-us.pcap'), file('editcap-us.pcapng')]);
  await run('editcap', ['-F', 'pcapng', file('tcpdump-ns.pcap'), file('editcap-ns.pcapng')]);
  await run('editcap', ['-F', 'pcap', file('tcpdump-ns.pcap'), file('editcap-us.pcap')]);
  await run('editcap', ['-F', 'nsecpcap', file('tcpdump-us.pcap'), file('editcap-ns.pcap')]);
  // -I none keeps one IDB per input: a two-interface pcapng, packets interleaved by time.
  await run('mergecap', [
    '-I',
    'none',
    '-F',
    'pcapng',
    '-w',
    file('mergecap-2if.pcapng'),
    file('tcpdump-us.pcap'),
    file('tcpdump-ns.pcap'),
  ]);
}, 120_000);

afterAll(async () => {
  await lab.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reader matches tshark on files written by tcpdump, editcap and mergecap', () => {
  test.each([
    ['tcpdump-us.pcap', 'd4c3b2a1', 1],
    ['tcpdump-ns.pcap', '4d3cb2a1', 1],
    ['editcap-us.pcapng', '0a0d0d0a', 1],
    ['editcap-ns.pcapng', '0a0d0d0a', 1],
    ['editcap-us.pcap', 'd4c3b2a1', 1],
    ['editcap-ns.pcap', '4d3cb2a1', 1],
    ['mergecap-2if.pcapng', '0a0d0d0a', 2],
  ])('%s', async (name, magicHex, interfaceCount) => {
    const bytes = readFileSync(file(name));
    expect(bytes.subarray(0, 4).toString('hex')).toBe(magicHex); // the file really is the format we think
    const interfaces: PcapInterface[] = [];
    const ours = [...readPacketsSync(bytes, { onInterface: (i) => interfaces.push(i) })].map(summarize);
    const theirs = await tsharkFrames(file(name));
    expect(ours.length).toBe(sizesBytes.length * interfaceCount);
    expect(interfaces.length).toBe(interfaceCount);
    expect(ours).toEqual(theirs);
    // The streaming path over the file gives the same packets.
    const streamed: FrameSummary[] = [];
    for await (const p of readPackets(file(name))) streamed.push(summarize(p));
    expect(streamed).toEqual(theirs);
  });

  test('ns captures really carry sub-µs digits, which the µs conversions drop', () => {
    const ns = [...readPacketsSync(readFileSync(file('tcpdump-ns.pcap')))].map((p) => p.timestampNs);
    expect(ns.some((t) => t % 1000n !== 0n)).toBe(true);
    const us = [...readPacketsSync(readFileSync(file('editcap-us.pcap')))].map((p) => p.timestampNs);
    expect(us).toEqual(ns.map((t) => t - (t % 1000n)));
  });

  test('live: tcpdump -w - stdout streamed into readPackets while capturing', async () => {
    const chunks: Buffer[] = [];
    async function* tee(src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        chunks.push(Buffer.from(c));
        yield c;
      }
    }
    let reading: Promise<FrameSummary[]> = Promise.resolve([]);
    const tcpdump = await lab.startTcpdump(
      ['--time-stamp-precision=nano', '-w', '-'],
      sizesBytes.length,
      (stdout) => {
        reading = (async () => {
          const got: FrameSummary[] = [];
          for await (const p of readPackets(tee(stdout))) got.push(summarize(p));
          return got;
        })();
        reading.catch(() => {}); // surfaced by the await below, not as an unhandled rejection
      },
    );
    await lab.sendUdp(sizesBytes);
    await tcpdump.done;
    const got = await reading;
    writeFileSync(file('live.pcap'), Buffer.concat(chunks));
    expect(got.length).toBe(sizesBytes.length);
    expect(got).toEqual(await tsharkFrames(file('live.pcap')));
  });
});
