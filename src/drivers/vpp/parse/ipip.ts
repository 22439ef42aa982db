/** The IP-in-IP tunnel ESP is protected on: `show ipip tunnel` (ipip/ipip_cli.c). */
import { tunnelLines } from './text.ts';

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
  return tunnelLines('show ipip tunnel', text, (field) => ({
    instance: Number(field('instance')),
    src: field('src'),
    dst: field('dst'),
    tableId: Number(field('table-ID')),
    swIfIndex: Number(field('sw-if-idx')),
  }));
}
