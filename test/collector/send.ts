/**
 * Sends IPv4/UDP packets' payloads over loopback from each packet's own source address (127.0.0.0/8 is all
 * local), so a collector sees the exporter address as the datagram source — what socat would do, per
 * packet. Paced gently: these are correctness tests, not load tests (sfcapd's socket overflows at bursts).
 * `collectOverLoopback` runs one real collector around such a send.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CollectorView, startCollector } from '../../src/collector/collector.ts';
import { createFlowMixSource, type FlowMixSource } from '../../src/traffic/mix.ts';

const dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** Sends each packet's UDP payload to 127.0.0.1 at `dstPort(packet)` (default: its own destination port). */
export async function sendUdpPackets(
  packets: Iterable<Uint8Array>,
  dstPort: (ip: Uint8Array) => number = (ip) => (ip[22] << 8) | ip[23],
): Promise<number> {
  const socks = new Map<number, dgram.Socket>();
  let sent = 0;
  try {
    for (const ip of packets) {
      const from = ((ip[12] << 24) | (ip[13] << 16) | (ip[14] << 8) | ip[15]) >>> 0;
      let s = socks.get(from);
      if (!s) {
        const sock = dgram.createSocket('udp4');
        await new Promise<void>((r) => sock.bind(0, dotted(from), () => r()));
        socks.set(from, sock);
        s = sock;
      }
      const sock = s;
      const payload = ip.subarray((ip[0] & 15) * 4 + 8, (ip[2] << 8) | ip[3]);
      await new Promise<void>((r, j) =>
        sock.send(payload, dstPort(ip), '127.0.0.1', (e) => (e ? j(e) : r())),
      );
      if (++sent % 20 === 0) await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    for (const s of socks.values()) s.close();
  }
  return sent;
}

/** `count` frames of a mix (raw IPv4 frames), all to `port`, minus those `skip` names. */
export function sendOverLoopback(
  src: FlowMixSource,
  count: number,
  port: number,
  skip: (i: number) => boolean = () => false,
): Promise<number> {
  function* frames() {
    for (let i = 0; i < count; i++) {
      const f = src.next(i);
      if (!skip(i)) yield f;
    }
  }
  return sendUdpPackets(frames(), () => port);
}

/** Datagrams 50..52 of the mix's first exporter (frames 100, 102, 104 of a two-exporter kind): one gap. */
export const DROP_ONE_GAP = (i: number) => i >= 100 && i <= 105 && i % 2 === 0;

/**
 * Starts a real collector of `kind` on 127.0.0.1 (a port unlikely to collide with other helpers' runs),
 * sends `count` frames of `mix` (two exporters per kind from `exporterBaseIp` on) minus `skip`, stops it and
 * returns its view and log. Its directory is removed unless `keepDir` (then the caller removes `dir`).
 */
export async function collectOverLoopback(o: {
  kind: string;
  mix: string;
  exporterBaseIp: string;
  count: number;
  portBase: number;
  skip?: (i: number) => boolean;
  keepDir?: boolean;
}): Promise<{ sent: number; view: CollectorView; log: string; dir: string }> {
  const port = o.portBase + (process.pid % 500);
  const dir = mkdtempSync(join(tmpdir(), `chainprobe-${o.kind}-`));
  try {
    const c = await startCollector({ kind: o.kind, address: '127.0.0.1', port, dir });
    const src = createFlowMixSource({
      mix: o.mix,
      exporters: 2,
      exporterBaseIp: o.exporterBaseIp,
      dstIp: '127.0.0.1',
      startMs: Date.now(),
    });
    const sent = await sendOverLoopback(src, o.count, port, o.skip);
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    return { sent, view, log: c.output(), dir };
  } finally {
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}
