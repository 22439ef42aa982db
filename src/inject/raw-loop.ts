/**
 * The raw-socket send loop (IPv4 packets with IP_HDRINCL: the kernel routes on the packet's destination
 * and keeps our header, spoofed source included). raw-socket 1.8.1's `send()` queues requests behind a
 * libuv poll; its native `wrap.send` is a plain synchronous sendto on a non-blocking socket, which is
 * what the loop calls: one syscall per packet, no allocation (the destination string is cached while
 * the destination stays the same). Paced by the absolute schedule of plan.ts.
 */
import { createRequire } from 'node:module';
import { ChainprobeError } from '../errors.ts';
import { type InjectPlan, Pacer } from './plan.ts';
import { SendClock } from './send-clock.ts';

interface RawWrap {
  send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): void;
}
export interface RawSocket {
  wrap: RawWrap;
  close(): void;
  setOption(level: number, option: number, value: number): void;
}
interface RawModule {
  createSocket(o: { protocol: number; addressFamily?: number }): RawSocket;
  SocketLevel: Record<string, number>;
  SocketOption: Record<string, number>;
}

export function openRawSocket(): RawSocket {
  let raw: RawModule;
  try {
    raw = createRequire(import.meta.url)('raw-socket') as RawModule;
  } catch (e) {
    throw new ChainprobeError(
      'E_MISSING_TOOL',
      `the raw-socket addon is not built (npm rebuild raw-socket): ${(e as Error).message}`,
    );
  }
  try {
    const s = raw.createSocket({ protocol: 255 }); // IPPROTO_RAW: send-only, implies IP_HDRINCL
    s.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
    return s;
  } catch (e) {
    const m = (e as Error).message;
    if (/not permitted|permission/i.test(m))
      throw new ChainprobeError('E_NO_PRIVILEGE', `raw sockets need root or CAP_NET_RAW: ${m}`);
    throw new ChainprobeError('E_INJECT_FAILED', `cannot open a raw socket: ${m}`);
  }
}

/** Where the loop gets frames from: returns undefined when frame k has not arrived yet (streaming). */
export interface PullSource {
  get(k: number): Uint8Array | undefined;
  /** Wait for more frames; false at the end of input. */
  more(): Promise<boolean>;
  check?(frame: Uint8Array, k: number): void;
}

export interface RawLoopResult {
  sent: number;
  failed: number;
  bytes: number;
  retries: number;
  elapsedNs: number;
  lastError?: string;
  stopped: boolean;
}

const noop = () => {};
const yieldOnce = () => new Promise<void>((r) => setTimeout(r, 0));

export async function rawSendLoop(
  sock: RawSocket,
  src: PullSource,
  plan: Pick<InjectPlan, 'count' | 'ratePps' | 'rateMbps' | 'burst' | 'durationS'>,
  hooks: { progress?: (sent: number, failed: number, elapsedNs: number) => void; stopped: () => boolean },
): Promise<RawLoopResult> {
  const pacer = new Pacer(plan);
  const count = plan.count ?? Number.POSITIVE_INFINITY;
  const durationNs = plan.durationS !== null ? plan.durationS * 1e9 : Number.POSITIVE_INFINITY;
  let sent = 0;
  let failed = 0;
  let bytes = 0;
  let retries = 0;
  let lastError: string | undefined;
  let lastDst = -1;
  let dstText = '';
  let k = 0;
  const clock = new SendClock((now) => hooks.progress?.(sent, failed, now));
  outer: while (k < count && !hooks.stopped()) {
    const now = clock.now();
    if (now >= durationNs) break;
    if (await clock.housekeep(now)) continue;
    let allowed = pacer.allowed(k, now);
    if (allowed === 0) {
      await clock.waitUntil(pacer.dueNs(k));
      continue;
    }
    allowed = Math.min(allowed, count - k, 256);
    for (let j = 0; j < allowed; j++) {
      let f = src.get(k);
      if (f === undefined) {
        if (!(await src.more())) break outer;
        f = src.get(k);
        if (f === undefined) break outer;
      }
      src.check?.(f, k);
      const dst = ((f[16] << 24) | (f[17] << 16) | (f[18] << 8) | f[19]) >>> 0;
      if (dst !== lastDst) {
        lastDst = dst;
        dstText = `${f[16]}.${f[17]}.${f[18]}.${f[19]}`;
      }
      const buf = Buffer.isBuffer(f) ? f : Buffer.from(f.buffer, f.byteOffset, f.length);
      for (;;) {
        try {
          sock.wrap.send(buf, 0, buf.length, dstText, noop);
          sent++;
          bytes += buf.length;
          break;
        } catch (e) {
          const m = (e as Error).message;
          if (/temporarily unavailable|no buffer space/i.test(m) && !hooks.stopped()) {
            retries++;
            await yieldOnce();
            continue;
          }
          failed++;
          lastError = m;
          break;
        }
      }
      pacer.consumed(buf.length);
      k++;
    }
  }
  return { sent, failed, bytes, retries, elapsedNs: clock.now(), lastError, stopped: hooks.stopped() };
}
