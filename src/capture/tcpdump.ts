/**
 * The tcpdump command line a capture point runs, and how to read what tcpdump says on stderr: the
 * "listening on" start confirmation, the counters it prints at exit, and its failure messages.
 */
import { ChainprobeError } from '../errors.ts';

export type Direction = 'in' | 'out' | 'inout';

export interface TcpdumpOptions {
  interface: string;
  filter?: string;
  snaplenBytes?: number;
  bufferKiB?: number;
  direction?: Direction;
}

export const DEFAULT_SNAPLEN_BYTES = 262_144;
export const DEFAULT_BUFFER_KIB = 8_192;

/** `tcpdump -i IF -U -w - …`: packet-buffered pcap (ns timestamps) on stdout, names not resolved. */
export function tcpdumpArgv(o: TcpdumpOptions): string[] {
  const argv = [
    'tcpdump',
    '-i',
    o.interface,
    '-n',
    '-U',
    '-w',
    '-',
    '-s',
    String(o.snaplenBytes ?? DEFAULT_SNAPLEN_BYTES),
    '-B',
    String(o.bufferKiB ?? DEFAULT_BUFFER_KIB),
    '--time-stamp-precision=nano',
  ];
  if (o.direction && o.direction !== 'inout') argv.push('-Q', o.direction);
  if (o.filter) argv.push(o.filter); // one element: tcpdump joins the remaining args into the expression
  return argv;
}

export interface CaptureStats {
  /** Packets tcpdump wrote (= packets the reader gets). */
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
  /** Only when the driver reports it. */
  droppedByInterface?: number;
}

/** Parse the counters tcpdump prints on exit ("N packets captured" …). undefined if they are absent. */
export function parseTcpdumpStats(stderr: string): CaptureStats | undefined {
  const num = (re: RegExp) => {
    const m = re.exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const captured = num(/^(\d+) packets? captured$/m);
  const receivedByFilter = num(/^(\d+) packets? received by filter$/m);
  const droppedByKernel = num(/^(\d+) packets? dropped by kernel$/m);
  const droppedByInterface = num(/^(\d+) packets? dropped by interface$/m);
  if (captured === undefined || receivedByFilter === undefined || droppedByKernel === undefined)
    return undefined;
  return {
    captured,
    receivedByFilter,
    droppedByKernel,
    ...(droppedByInterface !== undefined ? { droppedByInterface } : {}),
  };
}

export const LISTENING = /listening on (\S+)/;

/** Turn what tcpdump printed before dying into a typed error. */
export function tcpdumpStartError(stderr: string, where: string, iface: string): ChainprobeError {
  const text = stderr.trim().split('\n').slice(-6).join(' | ');
  if (/No such device|doesn't exist|no such interface|not found.*interface/i.test(stderr))
    return new ChainprobeError('E_NO_INTERFACE', `no interface "${iface}" at ${where}: ${text}`, true, {
      interface: iface,
    });
  if (/Operation not permitted|permission denied|You don't have permission/i.test(stderr))
    return new ChainprobeError(
      'E_NO_PRIVILEGE',
      `tcpdump at ${where} may not capture on ${iface} (needs root or CAP_NET_RAW): ${text}`,
    );
  if (
    /syntax error|can't parse filter|illegal|expression rejects all packets|unknown host|not supported/i.test(
      stderr,
    )
  )
    return new ChainprobeError(
      'E_CAPTURE_FAILED',
      `tcpdump at ${where} rejected its arguments: ${text}`,
      true,
    );
  return new ChainprobeError(
    'E_CAPTURE_FAILED',
    `tcpdump at ${where} failed to start on ${iface}: ${text || 'no output'}`,
  );
}
