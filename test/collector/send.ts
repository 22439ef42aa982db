/**
 * Sends generated frames' UDP payloads over loopback from each exporter's own address (127.0.0.0/8 is
 * all local), so a collector sees the exporter address as the datagram source.
 */
import dgram from 'node:dgram';
import type { FlowMixSource } from '../../src/traffic/mix.ts';

export async function sendOverLoopback(
  src: FlowMixSource,
  count: number,
  dstPort: number,
  skip: (i: number, frame: Uint8Array) => boolean = () => false,
): Promise<number> {
  const socks = new Map<number, dgram.Socket>();
  for (const e of src.exporters) {
    const s = dgram.createSocket('udp4');
    const ip = `${e.srcIp >>> 24}.${(e.srcIp >>> 16) & 255}.${(e.srcIp >>> 8) & 255}.${e.srcIp & 255}`;
    await new Promise<void>((r) => s.bind(0, ip, () => r()));
    socks.set(e.srcIp, s);
  }
  let sent = 0;
  try {
    for (let i = 0; i < count; i++) {
      const f = src.next(i);
      if (skip(i, f)) continue;
      const from = ((f[12] << 24) | (f[13] << 16) | (f[14] << 8) | f[15]) >>> 0;
      await new Promise<void>((r, j) =>
        socks.get(from)!.send(f.subarray(28), dstPort, '127.0.0.1', (e) => (e ? j(e) : r())),
      );
      sent++;
      // Let the collector's socket drain now and then: this is a correctness test, not a load test.
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    for (const s of socks.values()) s.close();
  }
  return sent;
}
