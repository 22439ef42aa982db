/**
 * Our writers' files, read back by tcpdump, tshark and capinfos (not by our reader).
 */

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ChainprobeError } from '../../src/errors.ts';
import { PcapngWriter, PcapWriter, readPacketsSync } from '../../src/pcap/index.ts';
import { bytesOf } from './crafted.ts';
import { epochToNs, prng, summarize, tsharkFrames } from './oracle.ts';

let dir = '';
const file = (name: string) => join(dir, name);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpt-pcapw-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const t0 = 1_700_000_000_123_456_789n;

/** tcpdump's own view: epoch timestamps (ns) and the packet count it read without error. */
async function tcpdumpTimestamps(path: string): Promise<bigint[]> {
  const { stdout } = await execa('tcpdump', ['-r', path, '-n', '-tt', '--time-stamp-precision=nano'], {
    timeout: 30_000,
  });
  return stdout
    .split('\n')
    .filter((l) => /^\d/.test(l)) // skip the hex dumps tcpdump prints for unknown ethertypes
    .map((l) => epochToNs(l.split(' ')[0]));
}

describe('PcapWriter', () => {
  test.each(['ns', 'us'] as const)('%s precision: tcpdump and tshark read our file', async (precision) => {
    // No 0-byte frame: tcpdump stops at a record with caplen 0 ("Invalid header"); tshark reads it.
    const frames = [60, 156, 1514, 9000, 1, 42].map((n, i) => bytesOf(n, i));
    const stamps = frames.map((_, i) => t0 + BigInt(i) * 1_000_001_001n);
    const w = PcapWriter.toFile(file(`w-${precision}.pcap`), { precision, linktype: 1 });
    for (const [i, f] of frames.entries()) w.write(f, stamps[i]);
    await w.close();
    const expectedStamps = precision === 'ns' ? stamps : stamps.map((t) => t - (t % 1000n));
    expect(await tcpdumpTimestamps(file(`w-${precision}.pcap`))).toEqual(expectedStamps);
    const seen = await tsharkFrames(file(`w-${precision}.pcap`));
    expect(seen.map((f) => f.timestampNs)).toEqual(expectedStamps);
    expect(seen.map((f) => f.md5)).toEqual(frames.map(md5));
    expect(seen.map((f) => f.capturedLength)).toEqual(frames.map((f) => f.length));
    const magic = readFileSync(file(`w-${precision}.pcap`))
      .subarray(0, 4)
      .toString('hex');
    expect(magic).toBe(precision === 'ns' ? '4d3cb2a1' : 'd4c3b2a1');
  });

  test('snaplen truncates and originalLength is kept; raw IPv4 linktype', async () => {
    const w = PcapWriter.toFile(file('snap.pcap'), { linktype: 228, snaplen: 100 });
    w.write(bytesOf(300, 1), t0);
    w.write(bytesOf(50, 2), t0 + 1n, 1400); // a packet captured short by someone else
    await w.close();
    const seen = await tsharkFrames(file('snap.pcap'));
    expect(seen.map((f) => [f.capturedLength, f.originalLength])).toEqual([
      [100, 300],
      [50, 1400],
    ]);
    expect(seen[0].md5).toBe(md5(bytesOf(300, 1).subarray(0, 100)));
    const { stdout } = await execa('capinfos', ['-E', '-l', file('snap.pcap')]);
    expect(stdout).toMatch(/Raw IPv4/);
    expect(stdout).toMatch(/100/);
  });

  test('2000 packets through the file sink (several staging flushes) keep every byte', async () => {
    const rnd = prng(7);
    const frames = Array.from({ length: 2000 }, (_, i) => bytesOf(Math.floor(rnd() * 1600), i));
    const w = PcapWriter.toFile(file('many.pcap'));
    for (const [i, f] of frames.entries()) w.write(f, t0 + BigInt(i) * 1000n + BigInt(i % 7));
    await w.close();
    const seen = await tsharkFrames(file('many.pcap'));
    expect(seen.length).toBe(2000);
    expect(seen.map((f) => f.md5)).toEqual(frames.map(md5));
    expect(seen[1999].timestampNs).toBe(t0 + 1999n * 1000n + BigInt(1999 % 7));
  });

  test('stream sink and memory sink produce the same bytes', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const s = PcapWriter.toStream(out);
    const m = new PcapWriter();
    for (let i = 0; i < 50; i++) {
      s.write(bytesOf(i * 10, i), t0 + BigInt(i));
      m.write(bytesOf(i * 10, i), t0 + BigInt(i));
    }
    await s.close();
    expect(Buffer.concat(chunks).equals(Buffer.from(m.toBuffer()))).toBe(true);
  });

  test('bad input is a ChainprobeError E_PCAP_WRITE', async () => {
    const w = new PcapWriter();
    const code = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e instanceof ChainprobeError ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => w.write(bytesOf(10, 1), -1n))).toBe('E_PCAP_WRITE');
    expect(code(() => w.write(bytesOf(10, 1), 2n ** 32n * 1_000_000_000n))).toBe('E_PCAP_WRITE');
    expect(code(() => w.write(bytesOf(10, 1), t0, 5))).toBe('E_PCAP_WRITE');
    expect(code(() => new PcapWriter({ snaplen: 300_000 }))).toBe('E_PCAP_WRITE');
    await w.close();
    expect(code(() => w.write(bytesOf(10, 1), t0))).toBe('E_PCAP_WRITE');
  });
});

describe('PcapngWriter', () => {
  test('3 interfaces (one per capture point), names, comments and ns timestamps survive tshark/capinfos', async () => {
    const w = PcapngWriter.toFile(file('three.pcapng'));
    const ingress = w.addInterface({ name: 'ingress', linktype: 1, snaplen: 262144, tsresolNs: 1 });
    const natOut = w.addInterface({ name: 'nat-out', linktype: 1, description: 'after NAT44' });
    w.writePacket(ingress, bytesOf(156, 1), t0, { comment: 'probe 1' });
    w.writePacket(natOut, bytesOf(106, 2), t0 + 17n);
    // An interface added after packets were written (a capture point that came up late).
    // Same linktype on all three: libpcap (tcpdump) refuses pcapng files whose interfaces differ in linktype.
    const espOut = w.addInterface({ name: 'esp-out', linktype: 1, tsresolNs: 1000 });
    w.writePacket(espOut, bytesOf(180, 3), t0 + 999n, { comment: 'ESP ✓', originalLength: 1400 });
    w.writePacket(ingress, bytesOf(3, 4), t0 + 1_000_000_001n);
    await w.close();

    const { stdout } = await execa('tshark', [
      '-r',
      file('three.pcapng'),
      '-T',
      'fields',
      '-e',
      'frame.interface_name',
      '-e',
      'frame.time_epoch',
    ]);
    expect(stdout.trim().split('\n')).toEqual([
      'ingress\t1700000000.123456789',
      'nat-out\t1700000000.123456806',
      'esp-out\t1700000000.123457000', // µs interface: truncated to its resolution
      'ingress\t1700000001.123456790',
    ]);
    const seen = await tsharkFrames(file('three.pcapng'));
    expect(seen.map((f) => [f.interfaceId, f.comment, f.capturedLength, f.originalLength])).toEqual([
      [0, 'probe 1', 156, 156],
      [1, '', 106, 106],
      [2, 'ESP ✓', 180, 1400],
      [0, '', 3, 3],
    ]);
    const info = (await execa('capinfos', [file('three.pcapng')])).stdout;
    expect(info).toMatch(/Number of interfaces in file: 3/);
    for (const name of ['ingress', 'nat-out', 'esp-out']) expect(info).toContain(`Name = ${name}`);
    expect(info).toMatch(/Time precision = nanoseconds \(9\)/);
    expect(info).toMatch(/Time precision = microseconds \(6\)/);
    expect(info).toMatch(/Capture application: chainprobe/);
    const td = await tcpdumpTimestamps(file('three.pcapng'));
    expect(td.length).toBe(4);
  });

  test('our reader agrees with tshark on our pcapng', async () => {
    const w = new PcapngWriter({ hardware: 'test' });
    const a = w.addInterface({ name: 'a', linktype: 1 });
    const b = w.addInterface({ name: 'b', linktype: 276, tsresolNs: 1000 });
    for (let i = 0; i < 100; i++)
      w.writePacket(
        i % 2 ? a : b,
        bytesOf(i * 13, i),
        t0 + BigInt(i) * 333n,
        i % 10 ? {} : { comment: `n${i}` },
      );
    const bytes = w.toBuffer();
    const f = file('ours.pcapng');
    await import('node:fs').then((fs) => fs.writeFileSync(f, bytes));
    expect([...readPacketsSync(bytes)].map(summarize)).toEqual(await tsharkFrames(f));
  });

  test('bad input is a ChainprobeError E_PCAP_WRITE', () => {
    const w = new PcapngWriter();
    expect(() => w.writePacket(0, bytesOf(1, 1), t0)).toThrowError(/interface 0 was not added/);
    expect(() => w.addInterface({ linktype: 1, tsresolNs: 3 })).toThrowError(ChainprobeError);
    expect(() => w.addInterface({ linktype: 70000 })).toThrowError(ChainprobeError);
    const i = w.addInterface({ linktype: 1 });
    expect(() => w.writePacket(i, bytesOf(1, 1), -5n)).toThrowError(ChainprobeError);
    expect(() => w.writePacket(i, bytesOf(10, 1), t0, { originalLength: 3 })).toThrowError(ChainprobeError);
  });
});
