/** Independent views of a capture file: what tshark (wiretap) sees, and the same shape from our reader. */
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import type { PcapPacket } from '../../src/pcap/index.ts';

export interface FrameSummary {
  timestampNs: bigint;
  interfaceId: number;
  originalLength: number;
  capturedLength: number;
  md5: string;
  comment: string;
}

/** "1700000000.123456789" → 1700000000123456789n, exactly (no float). */
export function epochToNs(text: string): bigint {
  // tshark prints nothing for a Simple Packet Block (no timestamp); our reader reports 0n for it.
  if (text === '') return 0n;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) throw new Error(`unexpected frame.time_epoch "${text}"`);
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export async function tsharkFrames(path: string): Promise<FrameSummary[]> {
  const { stdout } = await execa(
    'tshark',
    [
      '-o',
      'frame.generate_md5_hash:TRUE',
      '-r',
      path,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=f',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.interface_id',
      '-e',
      'frame.len',
      '-e',
      'frame.cap_len',
      '-e',
      'frame.md5_hash',
      '-e',
      'frame.comment',
    ],
    { timeout: 60_000 },
  );
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const [time, iface, len, capLen, md5, comment] = line.split('\t');
      return {
        timestampNs: epochToNs(time),
        interfaceId: iface ? Number(iface) : 0,
        originalLength: Number(len),
        capturedLength: Number(capLen),
        md5,
        comment: comment ?? '',
      };
    });
}

export function summarize(p: PcapPacket): FrameSummary {
  return {
    timestampNs: p.timestampNs,
    interfaceId: p.interfaceId,
    originalLength: p.originalLength,
    capturedLength: p.capturedLength,
    md5: createHash('md5').update(p.data).digest('hex'),
    comment: p.comment ?? '',
  };
}

/** Seeded PRNG so fuzz failures reproduce (one implementation for all tests). */
export { mulberry32 as prng } from '../helpers/prng.ts';
