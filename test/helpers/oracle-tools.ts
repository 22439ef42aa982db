/**
 * Independent oracles for codec tests: tshark (Wireshark's dissectors, checksum validation on) and scapy
 * (Debian's /usr/bin/python3 only — the python3 on PATH has no scapy, REFCHAIN G8).
 */
import { execa } from 'execa';

/** Runs tshark on a pcap and returns one array of field values per packet (tab-separated -T fields). */
export async function tsharkFields(
  pcapPath: string,
  fields: string[],
  extra: string[] = [],
): Promise<string[][]> {
  const args = [
    '-r',
    pcapPath,
    '-o',
    'ip.check_checksum:TRUE',
    '-o',
    'udp.check_checksum:TRUE',
    ...extra,
    '-T',
    'fields',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
  ];
  for (const f of fields) args.push('-e', f);
  const r = await execa('tshark', args, { timeout: 60_000 });
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** Runs a scapy script with `/usr/bin/python3`; `input` goes to stdin. Returns stdout. */
export async function scapy(script: string, input = ''): Promise<string> {
  const r = await execa(
    '/usr/bin/python3',
    [
      '-c',
      `import logging\nlogging.getLogger('scapy.runtime').setLevel(logging.ERROR)\nfrom scapy.all import *\n${script}`,
    ],
    {
      input,
      timeout: 60_000,
    },
  );
  return r.stdout;
}

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.trim(), 'hex'));
