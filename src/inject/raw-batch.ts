/**
 * The batched raw send loop: IPv4 packets (IP_HDRINCL) handed to the kernel `batch` at a time with one
 * sendmmsg through the native/rawtx addon, instead of one sendto per packet (raw-loop.ts, the fallback when
 * the addon is not built or CHAINPROBE_NO_NATIVE=1).
 *
 * Same contract as rawSendLoop: same PullSource, same absolute-schedule Pacer, same result. Paced, a
 * wake-up sends every frame already due (whole bursts, up to `batch`) in one sendmmsg; unpaced, batches of
 * `batch`. A periodic source (`src.set`) is laid out once in one buffer with an offset table covering a
 * batch past the end, so a batch of frames k … k+n-1 is one call with start k mod n: no per-frame JS work.
 * Otherwise each frame is copied into a staging buffer (sources may patch one buffer in place).
 */
import { ChainprobeError } from '../errors.ts';
import { type InjectPlan, Pacer } from './plan.ts';
import {
  openRawSocket,
  type PullSource,
  type RawLoopResult,
  type RawSocket,
  rawSendLoop,
} from './raw-loop.ts';
import { loadRawtx, type RawtxAddon, rawtxUnavailable } from './rawtx.ts';
import { SendClock, sleepSyncNs } from './send-clock.ts';

export const DEFAULT_BATCH = 64;
/** Periodic sets up to this size are laid out once (else frames are copied per batch). */
const SET_LAYOUT_MAX_BYTES = 64 * 1024 * 1024;
const STAGING_BYTES = 1 << 20;

const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;

/** A raw IPv4 sender: the batched addon when it loads, else raw-socket. */
export type RawSender =
  | { kind: 'sendmmsg'; addon: RawtxAddon; fd: number }
  | { kind: 'sendto'; sock: RawSocket; why?: string };

/**
 * Open a raw IPv4 socket in this process's namespace (or, for the addon only, the namespace at netnsPath).
 * Prefers the addon; `forceFallback` (or CHAINPROBE_NO_NATIVE=1) takes raw-socket.
 */
export function openRawSender(o: { forceFallback?: boolean } = {}): RawSender {
  const addon = o.forceFallback ? null : loadRawtx();
  if (!addon)
    return { kind: 'sendto', sock: openRawSocket(), why: o.forceFallback ? 'forced' : rawtxUnavailable() };
  try {
    return { kind: 'sendmmsg', addon, fd: addon.open() };
  } catch (e) {
    const err = e as Error & { errno?: number };
    if (err.errno === 1 || err.errno === 13)
      throw new ChainprobeError('E_NO_PRIVILEGE', `raw sockets need root or CAP_NET_RAW: ${err.message}`);
    throw new ChainprobeError('E_INJECT_FAILED', `cannot open a raw socket: ${err.message}`);
  }
}

export function closeRawSender(s: RawSender): void {
  if (s.kind === 'sendmmsg') s.addon.close(s.fd);
  else s.sock.close();
}

export interface RawSendResult extends RawLoopResult {
  /** How packets went out: one sendmmsg per batch (addon) or one sendto each (raw-socket). */
  sender: 'sendmmsg' | 'sendto';
}

type Plan = Pick<InjectPlan, 'count' | 'ratePps' | 'rateMbps' | 'burst' | 'durationS'>;
type Hooks = { progress?: (sent: number, failed: number, elapsedNs: number) => void; stopped: () => boolean };

/** Run the send loop on whichever sender was opened. */
export async function runRawSender(
  s: RawSender,
  src: PullSource & { set?: readonly Uint8Array[] },
  plan: Plan,
  hooks: Hooks,
  batch = DEFAULT_BATCH,
): Promise<RawSendResult> {
  if (s.kind === 'sendto') return { ...(await rawSendLoop(s.sock, src, plan, hooks)), sender: 'sendto' };
  return { ...(await rawBatchSendLoop(s.addon, s.fd, src, plan, hooks, batch)), sender: 'sendmmsg' };
}

/** Frames laid out once: offsets/lengths for indices 0 … n+batch-1 (index i = frame i mod n). */
function layoutSet(set: readonly Uint8Array[], batch: number, check?: PullSource['check']) {
  let total = 0;
  for (const f of set) total += f.length;
  if (set.length === 0 || total > SET_LAYOUT_MAX_BYTES) return null;
  const buf = Buffer.allocUnsafe(total);
  const offs = new Uint32Array(set.length + batch);
  const lens = new Uint32Array(set.length + batch);
  let p = 0;
  for (let i = 0; i < set.length; i++) {
    check?.(set[i], i);
    buf.set(set[i], p);
    offs[i] = p;
    lens[i] = set[i].length;
    p += set[i].length;
  }
  for (let i = set.length; i < offs.length; i++) {
    offs[i] = offs[i % set.length];
    lens[i] = lens[i % set.length];
  }
  return { buf, offs, lens, n: set.length };
}

export async function rawBatchSendLoop(
  addon: RawtxAddon,
  fd: number,
  src: PullSource & { set?: readonly Uint8Array[] },
  plan: Plan,
  hooks: Hooks,
  batch = DEFAULT_BATCH,
): Promise<RawLoopResult> {
  const maxB = Math.max(1, Math.min(Math.floor(batch), addon.MAX_BATCH));
  const pacer = new Pacer(plan);
  const count = plan.count ?? Number.POSITIVE_INFINITY;
  const durationNs = plan.durationS !== null ? plan.durationS * 1e9 : Number.POSITIVE_INFINITY;
  const set = src.set ? layoutSet(src.set, maxB, src.check) : null;
  let staging = Buffer.allocUnsafe(STAGING_BYTES);
  const sOffs = new Uint32Array(maxB);
  const sLens = new Uint32Array(maxB);

  let sent = 0;
  let failed = 0;
  let bytes = 0;
  let retries = 0;
  let lastError: string | undefined;
  let k = 0;
  let ended = false;
  const clock = new SendClock((now) => hooks.progress?.(sent, failed, now));
  while (k < count && !ended && !hooks.stopped()) {
    const now = clock.now();
    if (now >= durationNs) break;
    if (await clock.housekeep(now)) continue;

    // Gather every frame due now (whole bursts), up to maxB.
    let n = 0;
    let used = 0;
    let start = 0;
    let buf: Buffer = staging;
    let offs = sOffs;
    let lens = sLens;
    if (set) {
      buf = set.buf;
      offs = set.offs;
      lens = set.lens;
      start = k % set.n;
    }
    gather: while (n < maxB && k + n < count) {
      const allowed = pacer.allowed(k + n, now);
      if (allowed === 0) break;
      const take = Math.min(allowed, maxB - n, count - k - n);
      for (let j = 0; j < take; j++) {
        if (set) {
          pacer.consumed(lens[start + n]);
          n++;
          continue;
        }
        let f = src.get(k + n);
        if (f === undefined) {
          if (n > 0) break gather; // send what we have first
          if (!(await src.more()) || (f = src.get(k)) === undefined) {
            ended = true;
            break gather;
          }
        }
        src.check?.(f, k + n);
        if (f.length > staging.length - used) {
          if (n > 0) break gather;
          staging = Buffer.allocUnsafe(Math.max(f.length, STAGING_BYTES));
          buf = staging;
        }
        staging.set(f, used);
        sOffs[n] = used;
        sLens[n] = f.length;
        used += f.length;
        pacer.consumed(f.length);
        n++;
      }
    }
    if (n === 0) {
      if (ended) break;
      await clock.waitUntil(pacer.dueNs(k));
      continue;
    }

    // One sendmmsg for the lot; a refused packet is counted and skipped, a full queue waited out.
    let off = 0;
    while (off < n) {
      const r = addon.sendBatch(fd, buf, offs, lens, start + off, n - off);
      if (r > 0) {
        for (let j = 0; j < r; j++) bytes += lens[start + off + j];
        sent += r;
        off += r;
      } else if (r === -EAGAIN || r === -ENOBUFS || r === -EINTR || r === 0) {
        if (hooks.stopped()) break;
        retries++;
        if (addon.waitWritable(fd, 1) === 1) sleepSyncNs(20e3);
      } else {
        failed++;
        lastError = addon.strerror(-r);
        off++;
      }
    }
    k += off;
    if (off < n) break; // stopped while the queue was full
  }
  return { sent, failed, bytes, retries, elapsedNs: clock.now(), lastError, stopped: hooks.stopped() };
}
