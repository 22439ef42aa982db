/**
 * SegmentedPcap: packets cut by capture time into files that tshark opens, sealed segments handed out once,
 * late packets counted, bytes on disk going down as segments are removed.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { SegmentedPcap } from '../../src/capture/segments.ts';
import type { PcapPacket } from '../../src/pcap/packet.ts';
import { createFlowMixSource } from '../../src/traffic/mix.ts';

const dir = mkdtempSync(join(tmpdir(), 'cp-segments-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const S = 1_000_000_000n;
const BASE = 1_800_000_000n * S;

describe('SegmentedPcap', () => {
  const src = createFlowMixSource({
    mix: 'netflow-v9:1,sflow:1',
    exporters: 2,
    exporterBaseIp: '10.10.10.100',
    dstIp: '10.10.10.10',
    frame: 'ethernet',
  });
  const packet = (i: number, timestampNs: bigint): PcapPacket => {
    const data = src.next(i);
    return {
      timestampNs,
      interfaceId: 0,
      linktype: 1,
      capturedLength: data.length,
      originalLength: data.length,
      data,
    };
  };

  test('cuts by capture time; tshark reads each segment with exactly its packets', async () => {
    const s = new SegmentedPcap({ dir, point: 'wire', widthNs: 2n * S });
    // 10 packets per second for 5 s: segments [0,2) [2,4) [4,6) of 20, 20, 10 packets
    for (let i = 0; i < 50; i++) s.write(packet(i, BASE + (BigInt(i) * S) / 10n));
    expect(s.pending().map((f) => f.index)).toEqual([900_000_000, 900_000_001]); // the third is still open
    s.seal(900_000_002);
    const files = [0, 1, 2].map((k) => s.take(900_000_000 + k)!);
    expect(files.map((f) => f.packets)).toEqual([20, 20, 10]);
    expect(s.take(900_000_000)).toBeNull(); // handed out once
    for (const f of files) {
      const r = await execa('tshark', [
        '-r',
        f.path,
        '-T',
        'fields',
        '-e',
        'frame.time_epoch',
        '-e',
        'cflow.version',
      ]);
      const rows = r.stdout.trim().split('\n');
      expect(rows).toHaveLength(f.packets);
      const secs = rows.map((row) => Number(row.split('\t')[0]) - 1_800_000_000);
      const k = f.index - 900_000_000;
      expect(Math.min(...secs)).toBeGreaterThanOrEqual(2 * k);
      expect(Math.max(...secs)).toBeLessThan(2 * k + 2);
    }
    expect(s.bytesOnDisk).toBe(files.reduce((n, f) => n + f.bytes, 0));
    for (const f of files) s.remove(f);
    expect(s.bytesOnDisk).toBe(0);
    expect(s.bytesWritten).toBe(files.reduce((n, f) => n + f.bytes, 0));
    expect(readdirSync(dir).filter((f) => f.startsWith('wire.'))).toEqual([]);
  });

  test('a packet of a sealed segment is late: counted, and written into the open segment', () => {
    const s = new SegmentedPcap({ dir, point: 'late', widthNs: S });
    s.write(packet(0, BASE));
    s.seal(1_800_000_000);
    s.write(packet(1, BASE + S / 2n)); // belongs to the sealed segment
    s.write(packet(2, BASE + S + 1n));
    s.close();
    expect(s.late).toBe(1);
    expect(s.pending().map((f) => [f.index, f.packets])).toEqual([
      [1_800_000_000, 1],
      [1_800_000_001, 2],
    ]);
  });
});
