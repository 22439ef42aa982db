/**
 * Packet capture and tracing inside VPP: `show trace` (per packet, the nodes it visited) and the answer to
 * `pcap trace off` (interface_cli.c: "Write %d packets to %s, and stop capture..."; "No packets captured...").
 */
import { unrecognised, vppLines } from './text.ts';

export interface VppTraceStep {
  /** as printed, "00:00:08:953055" (hours:minutes:seconds:microseconds since VPP started) */
  time: string;
  /** the same in seconds since VPP started (VPP's clock, not the kernel's) */
  seconds: number;
  node: string;
  /** what the node recorded, indentation removed */
  lines: string[];
}

export interface VppTracedPacket {
  thread: number;
  /** "Packet N" of its thread */
  number: number;
  steps: VppTraceStep[];
}

const STEP = /^(\d+):(\d+):(\d+):(\d+): (\S+)\s*$/;

export function parseShowTrace(text: string): VppTracedPacket[] {
  const command = 'show trace';
  const out: VppTracedPacket[] = [];
  let thread = 0;
  for (const line of vppLines(text)) {
    const t = line.match(/^-+ Start of thread (\d+) /);
    const packet = line.match(/^Packet (\d+)\s*$/);
    const step = line.match(STEP);
    const current = out.at(-1);
    if (t) thread = Number(t[1]);
    else if (packet) out.push({ thread, number: Number(packet[1]), steps: [] });
    else if (step) {
      if (!current) throw unrecognised(command, 'node line before "Packet N"', line);
      const [, h, m, s, us, node] = step;
      current.steps.push({
        time: line.slice(0, line.indexOf(': ')),
        seconds: ((Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1e6 + Number(us)) / 1e6,
        node: node as string,
        lines: [],
      });
    } else if (line.trim() !== '' && current?.steps.length) current.steps.at(-1)?.lines.push(line.trim());
  }
  if (out.length === 0 && !/No packets in trace buffer/.test(text) && text.trim() !== '')
    throw unrecognised(command, 'no "Packet N" in the trace', text);
  return out;
}

export interface VppPcapTraceOff {
  /** null when VPP captured nothing (it then writes no file) */
  file: string | null;
  packets: number;
  /**
   * VPP stops adding packets at `max` without a word: the capture was cut when it wrote exactly `max`.
   * null when the caller did not say which `max` it armed.
   */
  limitHit: boolean | null;
}

export function parsePcapTraceOff(text: string, max?: number): VppPcapTraceOff {
  const command = 'pcap trace off';
  const written = text.match(/Write (\d+) packets to (\S+), and stop capture/);
  if (written) {
    const packets = Number(written[1]);
    return { file: written[2] as string, packets, limitHit: max === undefined ? null : packets >= max };
  }
  if (/No packets captured/.test(text))
    return { file: null, packets: 0, limitHit: max === undefined ? null : false };
  throw unrecognised(command, 'neither "Write N packets" nor "No packets captured"', text);
}
