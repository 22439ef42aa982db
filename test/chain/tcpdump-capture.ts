/**
 * A plain tcpdump capture inside a namespace, for the reference-chain tests: independent of chainprobe's
 * capture module on purpose (the chain is proven with stock tools, then the harness is proven on the chain).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

export interface Capture {
  file: string;
  stop(): Promise<void>;
}

export async function startCapture(
  ns: string,
  iface: string,
  direction: 'in' | 'out',
  name: string,
): Promise<Capture> {
  const file = join(mkdtempSync(join(tmpdir(), 'refchain-test-')), `${name}.pcap`);
  const p: ResultPromise = execa(
    'ip',
    ['netns', 'exec', ns, 'tcpdump', '-i', iface, '-Q', direction, '-n', '-U', '-s', '0', '-w', file],
    {
      reject: false,
      timeout: 60_000,
      buffer: true,
    },
  );
  // tcpdump is ready once it prints "listening on"
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump on ${ns}/${iface} did not start`)), 5000);
    p.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    file,
    async stop() {
      await new Promise((r) => setTimeout(r, 1200)); // packets still in tcpdump's ring are lost otherwise (G9)
      p.kill('SIGTERM');
      await p;
    },
  };
}

export interface FrameFields {
  ipLen: number;
  df: boolean;
  mf: boolean;
  fragOffset: number;
  src: string;
  dst: string;
  espSpi?: number;
  udpLen?: number;
}

/** Reads a pcap with tshark (Wireshark's dissectors), one record per frame. */
export async function readWithTshark(file: string): Promise<FrameFields[]> {
  const fields = [
    'ip.len',
    'ip.flags.df',
    'ip.flags.mf',
    'ip.frag_offset',
    'ip.src',
    'ip.dst',
    'esp.spi',
    'udp.length',
  ];
  const r = await execa(
    'tshark',
    [
      '-n',
      '-r',
      file,
      '-o',
      'ip.defragment:FALSE',
      '-T',
      'fields',
      '-E',
      'separator=,',
      '-E',
      'occurrence=l',
      ...fields.flatMap((f) => ['-e', f]),
    ],
    { timeout: 30_000 },
  );
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [ipLen, df, mf, off, src, dst, spi, udpLen] = l.split(',');
      const flag = (s: string) => s === '1' || s === 'True';
      return {
        ipLen: Number(ipLen),
        df: flag(df),
        mf: flag(mf),
        fragOffset: Number(off || 0),
        src,
        dst,
        espSpi: spi ? Number(spi) : undefined,
        udpLen: udpLen ? Number(udpLen) : undefined,
      };
    });
}
