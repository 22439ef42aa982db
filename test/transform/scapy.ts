/**
 * Runs a Python snippet with Debian's /usr/bin/python3 (the one with scapy 2.5, REFCHAIN G8) as an independent
 * oracle. The snippet defines `main(inp)`; input and output travel as JSON, bytes as hex strings.
 */
import { execa } from 'execa';

export const PYTHON = '/usr/bin/python3';

const prelude = `
import sys, json, logging
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import *
from scapy.layers.ipsec import SecurityAssociation, ESP
h = bytes.fromhex
`;

export async function scapy<T = unknown>(code: string, input: unknown): Promise<T> {
  const script = `${prelude}\n${code}\nprint(json.dumps(main(json.loads(sys.stdin.read()))))\n`;
  const r = await execa(PYTHON, ['-c', script], { input: JSON.stringify(input), timeout: 60_000 });
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

export const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
