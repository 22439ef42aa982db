/**
 * Rate control shared by every injector: turn InjectOptions into a concrete plan (count, rate, burst), and
 * an absolute-schedule pacer for the JS senders (the native helper implements the same schedule in C).
 *
 * Absolute schedule: burst j (frames j·B … j·B+B-1) is due at t0 + j·B/pps (or, by Mbps, at t0 + bytes sent
 * before it × 8 / rate). A late wake-up is caught up by sending every frame already due, so the mean rate
 * never drifts the way delta sleeps do (tcpreplay #630/#829, FEATURES §3.4).
 */
import { ChainprobeError } from '../errors.ts';
import type { FrameSource, InjectOptions } from './types.ts';

export interface InjectPlan {
  /** Frames to send; null = until durationS runs out. */
  count: number | null;
  ratePps: number | null;
  rateMbps: number | null;
  durationS: number | null;
  burst: number;
  /** Requested rate in pps (Mbps converted with the mean frame length), null for top speed. */
  requestedPps: number | null;
  meanLengthBytes: number;
}

function positive(name: string, v: number | undefined): number | null {
  if (v === undefined) return null;
  if (!Number.isFinite(v) || v <= 0)
    throw new ChainprobeError('E_CONFIG', `${name} must be a positive number (got ${v})`, true);
  return v;
}

export function planInjection(frames: FrameSource, opts: InjectOptions = {}): InjectPlan {
  const ratePps = positive('ratePps', opts.ratePps);
  const rateMbps = positive('rateMbps', opts.rateMbps);
  const durationS = positive('durationS', opts.durationS);
  if (ratePps !== null && rateMbps !== null)
    throw new ChainprobeError('E_CONFIG', 'give ratePps or rateMbps, not both', true);
  const burst = opts.burst === undefined ? 1 : Math.floor(opts.burst);
  if (!(burst >= 1)) throw new ChainprobeError('E_CONFIG', `burst must be >= 1 (got ${opts.burst})`, true);
  if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count >= 0))
    throw new ChainprobeError('E_CONFIG', `count must be a non-negative integer (got ${opts.count})`, true);

  const sample = Math.min(frames.period ?? 1, 4096);
  let total = 0;
  for (let i = 0; i < sample; i++) total += frames.next(i).length;
  const meanLengthBytes = total / sample;
  const requestedPps = ratePps ?? (rateMbps !== null ? (rateMbps * 1e6) / 8 / meanLengthBytes : null);

  let count: number | null;
  if (opts.count !== undefined) count = opts.count;
  else if (durationS !== null && ratePps !== null) count = Math.ceil(ratePps * durationS);
  else if (durationS !== null) count = null;
  else if (frames.period !== undefined) count = frames.period;
  else
    throw new ChainprobeError('E_CONFIG', 'this frame source has no period: give count or durationS', true);
  return { count, ratePps, rateMbps, durationS, burst, requestedPps, meanLengthBytes };
}

/** Absolute-schedule pacer for JS send loops. Times are ns since the pacer's start. */
export class Pacer {
  private burstStartK = 0;
  private bytesSched = 0;
  private bytesAtBurst = 0;
  private readonly nsPerFrame: number;
  private readonly nsPerByte: number;

  constructor(private readonly plan: Pick<InjectPlan, 'ratePps' | 'rateMbps' | 'burst'>) {
    this.nsPerFrame = plan.ratePps ? 1e9 / plan.ratePps : 0;
    this.nsPerByte = plan.rateMbps ? 8000 / plan.rateMbps : 0;
  }

  get paced(): boolean {
    return this.nsPerFrame > 0 || this.nsPerByte > 0;
  }

  /**
   * Frames (starting at frame k) that may be sent at `nowNs`: 0 means wait until `dueNs(k)`.
   * At most the rest of the current burst; unlimited (Infinity) when unpaced.
   */
  allowed(k: number, nowNs: number): number {
    if (!this.paced) return Number.POSITIVE_INFINITY;
    if (k >= this.burstStartK + this.plan.burst || k === 0) {
      this.burstStartK = k;
      this.bytesAtBurst = this.bytesSched;
    }
    return this.dueNs(k) <= nowNs ? this.burstStartK + this.plan.burst - k : 0;
  }

  /** When the burst holding frame k is due (call allowed(k, …) first). */
  dueNs(_k: number): number {
    return this.nsPerFrame > 0 ? this.burstStartK * this.nsPerFrame : this.bytesAtBurst * this.nsPerByte;
  }

  /** Account a frame of `lengthBytes` as consumed (sent or failed). */
  consumed(lengthBytes: number): void {
    this.bytesSched += lengthBytes;
  }
}

export const nowNs = (t0: bigint): number => Number(process.hrtime.bigint() - t0);

/**
 * What makes one run's packets its own, derived from its run id so that two runs on one chain at the same
 * time do not mix: the probe header's run id and flow id (a stranger's probes are foreign), and the block
 * of IPv4 IDs the probes use (inner and outer ID = ipIdBase + seq). Fragments carry no probe header, only
 * (src, dst, ID, protocol): with distinct ID blocks a stranger's fragments reassemble among themselves,
 * then count as foreign, instead of colliding with ours. 16 bits leave room for chance: two runs with
 * random ids collide only if their blocks meet while both have datagrams in the reassembly window
 * (probability ≈ 2 × probes-in-window / 65 536), and such a collision is reported as IP ID reuse.
 */
export interface RunIdentity {
  runId: number;
  flowId: number;
  ipIdBase: number;
}

export function runIdentity(runId: number, flowId?: number): RunIdentity {
  const h = mix32(runId >>> 0);
  return {
    runId: runId >>> 0,
    // never 0: a zero flow id reads like an unset field in a capture
    flowId: flowId ?? (mix32(h) & 0x7fffffff || 1),
    ipIdBase: h & 0xffff,
  };
}

/** A 32-bit integer hash (lowbias32): neighbouring run ids get unrelated identities. */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
