/** IPv4 forwarding state: `show ip fib` and `show ip4-full-reassembly`. */
import { unrecognised, vppLines } from './text.ts';

export interface VppFibPath {
  /** via: forward to a next hop; receive: addressed to VPP; glean: connected subnet (ARP); drop */
  kind: 'via' | 'receive' | 'glean' | 'drop' | 'other';
  /** next hop ("0.0.0.0" for a point-to-point tunnel) or the local address of a receive path */
  via?: string;
  interface?: string;
  mtu?: number;
  /** where a tunnel's path is stacked (the path its packets really leave by) */
  stackedOn?: VppFibPath;
}

export interface VppFibEntry {
  /** VRF table id */
  vrf: number;
  prefix: string;
  /** packets and bytes forwarded by this entry (load-balance "to:[p:b]") */
  packets: number;
  bytes: number;
  paths: VppFibPath[];
}

function fibPath(text: string): VppFibPath {
  const via = text.match(/ipv4 via (\S+) ([^\s:]+): mtu:(\d+)/);
  if (via) return { kind: 'via', via: via[1] as string, interface: via[2] as string, mtu: Number(via[3]) };
  const receive = text.match(/dpo-receive: (\S+) on (\S+)/);
  if (receive) return { kind: 'receive', via: receive[1] as string, interface: receive[2] as string };
  const glean = text.match(/ipv4-glean: \[src:\S+\] ([^\s:]+): mtu:(\d+)/);
  if (glean) return { kind: 'glean', interface: glean[1] as string, mtu: Number(glean[2]) };
  if (/dpo-drop/.test(text)) return { kind: 'drop' };
  return { kind: 'other' };
}

export function parseShowIpFib(text: string): VppFibEntry[] {
  const command = 'show ip fib';
  const out: VppFibEntry[] = [];
  let vrf: number | undefined;
  let stacking: VppFibPath | undefined;
  for (const line of vppLines(text)) {
    const table = line.match(/^ipv4-VRF:(\d+),/);
    const prefix = line.match(/^(\d+\.\d+\.\d+\.\d+\/\d+)\s*$/);
    const current = out.at(-1);
    if (table) vrf = Number(table[1]);
    else if (prefix) {
      if (vrf === undefined) throw unrecognised(command, 'prefix before a table header', line);
      out.push({ vrf, prefix: prefix[1] as string, packets: 0, bytes: 0, paths: [] });
      stacking = undefined;
    } else if (!current) continue;
    else if (/dpo-load-balance:/.test(line)) {
      const to = line.match(/to:\[(\d+):(\d+)\]/);
      if (to) {
        current.packets = Number(to[1]);
        current.bytes = Number(to[2]);
      }
    } else if (/^\s+\[\d+\] \[@\d+\]:/.test(line)) {
      const path = fibPath(line);
      current.paths.push(path);
      stacking = path;
    } else if (/^\s+stacked-on entry/.test(line)) continue;
    else if (/^\s+\[@\d+\]:/.test(line) && stacking && !stacking.stackedOn)
      stacking.stackedOn = fibPath(line);
  }
  if (vrf === undefined) throw unrecognised(command, 'no "ipv4-VRF:" table header', text);
  return out;
}

export interface VppIp4Reassembly {
  currentReassemblies: number;
  maxConcurrentPerThread: number;
  /** datagrams with more fragments than this are dropped */
  maxFragmentsPerDatagram: number;
  timeoutMs: number;
  expireWalkIntervalMs: number;
}

export function parseShowIp4FullReassembly(text: string): VppIp4Reassembly {
  const command = 'show ip4-full-reassembly';
  const value = (re: RegExp, what: string) => {
    const m = text.match(re);
    if (!m) throw unrecognised(command, `no "${what}"`, text);
    return Number(m[1]);
  };
  return {
    currentReassemblies: value(/Current full IP4 reassemblies count: (\d+)/, 'reassemblies count'),
    maxConcurrentPerThread: value(
      /concurrent full IP4 reassemblies per worker-thread: (\d+)/,
      'concurrent reassemblies',
    ),
    maxFragmentsPerDatagram: value(
      /amount of fragments per full IP4 reassembly: (\d+)/,
      'fragments per reassembly',
    ),
    timeoutMs: value(/full IP4 reassembly timeout: (\d+)ms/, 'timeout'),
    expireWalkIntervalMs: value(/expire walk interval: (\d+)ms/, 'expire walk interval'),
  };
}
