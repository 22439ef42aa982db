/**
 * The interface family: `show interface` (per-interface counters and MTUs), `show interface addr`
 * (addresses, bridge membership, unnumbered) and `show hardware-interfaces` (link, MAC, af_packet host side).
 */
import { count, unrecognised, vppLines } from './text.ts';

export interface VppInterface {
  name: string;
  index: number;
  /** administrative state as VPP prints it ("up", "down") */
  state: string;
  mtu: { l3: number; ip4: number; ip6: number; mpls: number };
  /** VPP's counter names as printed ("rx packets", "drops", "tx-error", "rx-miss", "punt", "ip4", …); zero counters are not printed */
  counters: Record<string, number>;
}

// Name %-32, Idx %=5, State %=10, MTU %=21, then "counter name … count": the name column can overflow for long
// names, so rows are read by their shape rather than by position.
const ROW = /^(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\/(\d+)\/(\d+)\/(\d+)(?:\s+(.*))?$/;
const COUNTER = /^(\S.*?)\s+(\d+)$/;

export function parseShowInterface(text: string): VppInterface[] {
  const command = 'show interface';
  const lines = vppLines(text);
  if (!/^\s*Name\s+Idx\s+State\s+MTU/.test(lines[0] ?? ''))
    throw unrecognised(command, 'no "Name Idx State MTU" header', text);
  const out: VppInterface[] = [];
  for (const raw of lines.slice(1)) {
    const line = raw.trimEnd();
    if (line === '') continue;
    const row = line.match(ROW);
    let counter: string | undefined;
    if (row) {
      const [, name, index, state, l3, ip4, ip6, mpls, rest] = row;
      out.push({
        name: name as string,
        index: Number(index),
        state: state as string,
        mtu: { l3: Number(l3), ip4: Number(ip4), ip6: Number(ip6), mpls: Number(mpls) },
        counters: {},
      });
      counter = rest;
    } else if (/^\s/.test(line)) counter = line.trim();
    else throw unrecognised(command, 'row is neither an interface nor a counter', line);
    if (!counter) continue;
    const current = out.at(-1);
    const m = counter.match(COUNTER);
    if (!current || !m) throw unrecognised(command, 'counter line without an interface or a value', line);
    current.counters[m[1] as string] = count(command, m[1] as string, m[2]);
  }
  return out;
}

export interface VppInterfaceAddresses {
  name: string;
  up: boolean;
  /** "172.20.101.2/24" */
  l3: string[];
  /** member of an L2 bridge domain */
  bridge?: { bdId: number; bvi: boolean };
  /** unnumbered: borrows the addresses of this interface */
  unnumberedFrom?: string;
}

export function parseShowInterfaceAddr(text: string): VppInterfaceAddresses[] {
  const command = 'show interface addr';
  const out: VppInterfaceAddresses[] = [];
  for (const raw of vppLines(text)) {
    const line = raw.trimEnd();
    if (line === '') continue;
    const head = line.match(/^(\S+) \((up|dn|down)\):$/);
    if (head) {
      out.push({ name: head[1] as string, up: head[2] === 'up', l3: [] });
      continue;
    }
    const current = out.at(-1);
    if (!current || !/^\s/.test(line)) throw unrecognised(command, 'line outside an interface', line);
    const l3 = line.match(/^\s+L3 (\S+)/);
    const l2 = line.match(/^\s+L2 bridge bd-id (\d+)\b.*?(\bbvi\b)?\s*$/);
    const unnumbered = line.match(/^\s+unnumbered, use (\S+)/);
    if (l3) current.l3.push(l3[1] as string);
    else if (l2) current.bridge = { bdId: Number(l2[1]), bvi: l2[2] === 'bvi' };
    else if (unnumbered) current.unnumberedFrom = unnumbered[1] as string;
  }
  return out;
}

export interface VppHardwareInterface {
  name: string;
  index: number;
  link: string;
  /** the device name ("host-sec0" for af_packet, "loop0", "ipip0") */
  hardware: string;
  /** "Ethernet address" when the interface has one */
  mac?: string;
  /** af_packet: the Linux interface VPP reads (the device name without "host-") and the ring version */
  afPacket?: { hostInterface: string; version: string };
}

export function parseShowHardwareInterfaces(text: string): VppHardwareInterface[] {
  const command = 'show hardware-interfaces';
  const lines = vppLines(text);
  if (!/^\s*Name\s+Idx\s+Link\s+Hardware/.test(lines[0] ?? ''))
    throw unrecognised(command, 'no "Name Idx Link Hardware" header', text);
  const out: VppHardwareInterface[] = [];
  for (const line of lines.slice(1)) {
    const row = line.match(/^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*$/);
    if (row) {
      out.push({
        name: row[1] as string,
        index: Number(row[2]),
        link: row[3] as string,
        hardware: row[4] as string,
      });
      continue;
    }
    const current = out.at(-1);
    if (!current) continue;
    const mac = line.match(/^\s+Ethernet address ([0-9a-f:]{17})/i);
    const afPacket = line.match(/^\s+Linux PACKET socket interface (v\d+)/);
    if (mac) current.mac = (mac[1] as string).toLowerCase();
    if (afPacket)
      current.afPacket = {
        hostInterface: current.hardware.replace(/^host-/, ''),
        version: afPacket[1] as string,
      };
  }
  return out;
}
