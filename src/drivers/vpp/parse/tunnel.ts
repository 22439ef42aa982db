/**
 * Tunnels, one line each: `show vxlan tunnel` (vxlan/vxlan.c) and `show ipip tunnel` (ipip/ipip_cli.c),
 * `[N] instance N src A dst B …` with `key value` pairs; "No … tunnels configured..." when there are none.
 */
import { unrecognised, vppLines } from './text.ts';

function tunnels<T>(command: string, text: string, read: (field: (key: string) => string) => T): T[] {
  if (/^No \S+ tunnels configured/im.test(text)) return [];
  return vppLines(text)
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const words = line
        .trim()
        .replace(/^\[\d+\]\s*/, '')
        .split(/\s+/);
      return read((key) => {
        const at = words.indexOf(key);
        const v = at < 0 ? undefined : words[at + 1];
        if (v === undefined) throw unrecognised(command, `tunnel without "${key}"`, line);
        return v;
      });
    });
}

export interface VppVxlanTunnel {
  instance: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  vni: number;
  fibIndex: number;
  swIfIndex: number;
}

/** `[0] instance 0 src A dst B src_port 4789 dst_port 4789 vni 100 fib-idx 0 sw-if-idx 3 encap-dpo-idx 4` */
export function parseShowVxlanTunnel(text: string): VppVxlanTunnel[] {
  return tunnels('show vxlan tunnel', text, (field) => ({
    instance: Number(field('instance')),
    src: field('src'),
    dst: field('dst'),
    srcPort: Number(field('src_port')),
    dstPort: Number(field('dst_port')),
    vni: Number(field('vni')),
    fibIndex: Number(field('fib-idx')),
    swIfIndex: Number(field('sw-if-idx')),
  }));
}

export interface VppIpipTunnel {
  /** the N of ipipN */
  instance: number;
  src: string;
  dst: string;
  tableId: number;
  swIfIndex: number;
}

/** `[0] instance 0 src A dst B table-ID 0 sw-if-idx 3 flags [none] dscp CS0` */
export function parseShowIpipTunnel(text: string): VppIpipTunnel[] {
  return tunnels('show ipip tunnel', text, (field) => ({
    instance: Number(field('instance')),
    src: field('src'),
    dst: field('dst'),
    tableId: Number(field('table-ID')),
    swIfIndex: Number(field('sw-if-idx')),
  }));
}
