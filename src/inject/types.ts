/**
 * The injector contract shared by the raw (IP_HDRINCL), l2 (AF_PACKET) and tcpreplay injectors.
 *
 * Frames come from a `FrameSource`: `next(i)` returns frame i and may return the same buffer every call,
 * patched in place by a template (seq, ids, checksums), so the hot path allocates nothing. The buffer is
 * only valid until the next call: injectors copy or send it before asking for the next frame.
 */

/** What an injector sends: whole Ethernet frames (`l2`, `tcpreplay`) or IPv4 packets (`raw`). */
export type FrameKind = 'ethernet' | 'ipv4';

export interface FrameSource {
  /** Ethernet frames (with header, as VPP's af_packet expects) or bare IPv4 packets (raw injector). */
  readonly kind: FrameKind;
  /**
   * Frame i (0-based). May return a reused buffer patched in place; valid until the next call. A stateful
   * source (flow export: exporters' sequence numbers) makes frames in order and returns the same frame when
   * asked for the same i twice in a row: look at frame 0 (plans, preflights) before sending, nothing further.
   */
  next(i: number): Uint8Array;
  /**
   * If set, frame i equals frame i % period: the injector may hand over `period` frames once and let a
   * native sender cycle through them (no per-frame work in JS). Omit when every frame differs.
   */
  readonly period?: number;
  /** Upper bound of frame lengths in bytes (MTU preflight). */
  readonly maxLengthBytes: number;
}

export interface InjectProgress {
  sent: number;
  elapsedNs: number;
}

export interface InjectOptions {
  /** Target packet rate. Omit both ratePps and rateMbps for top speed. */
  ratePps?: number;
  /** Target rate in Mbit/s of frame bytes as given by the source (Ethernet header included, no FCS/preamble). */
  rateMbps?: number;
  /** Number of frames to send. Default: `period` of the source, or ratePps × durationS. */
  count?: number;
  /** Stop after this many seconds (with a rate and no count, count = rate × duration). */
  durationS?: number;
  /** Send frames in back-to-back bursts of this size at the paced burst rate (default 1). */
  burst?: number;
  /** Called at most about once a second while sending (the CLI shows it). */
  onProgress?: (p: InjectProgress) => void;
  /** Abort: the sender stops, its process is killed and reaped, the promise resolves with the partial stats. */
  signal?: AbortSignal;
}

export interface InjectStats {
  /** Frames the sender handed to the kernel (or tcpreplay's "Successful packets"). */
  sent: number;
  /** Frames the kernel refused (EMSGSIZE, ...; tcpreplay's "Failed packets"). */
  failed: number;
  /** Bytes of the frames sent. */
  bytes: number;
  /** Wall time of the sending loop, measured by the sender. */
  elapsedNs: number;
  /** The requested rate in pps (Mbps converted with the mean frame size), or null for top speed. */
  requestedPps: number | null;
  /**
   * sent / elapsed as the *sender* measured it. Not the achieved rate on the wire: that comes from the
   * capture at the injection point (capture/), which is what reports must use (FEATURES §3.4).
   */
  achievedPpsSender: number;
  /** Injector that produced these stats. */
  injector: 'raw' | 'l2' | 'tcpreplay';
  /** True when stopped by the AbortSignal. */
  aborted: boolean;
  /** Injector-specific extras (tcpreplay's Truncated/Retried counters, send retries, last error ...). */
  details?: Record<string, unknown>;
}

export interface Injector {
  readonly name: 'raw' | 'l2' | 'tcpreplay';
  inject(frames: FrameSource, opts?: InjectOptions): Promise<InjectStats>;
}

/** A FrameSource over a fixed list of frames, cycled (frame i = frames[i % n]). */
export function framesFromList(kind: FrameKind, frames: readonly Uint8Array[]): FrameSource {
  if (frames.length === 0) throw new RangeError('framesFromList needs at least one frame');
  let max = 0;
  for (const f of frames) max = Math.max(max, f.length);
  return { kind, period: frames.length, maxLengthBytes: max, next: (i) => frames[i % frames.length] };
}
