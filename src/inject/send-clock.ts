/**
 * The housekeeping every paced send loop needs, and only once per turn of the loop, never per packet:
 * progress at most once a second, a turn of the event loop at least every 10 ms (abort, signals, stdin),
 * and waiting for the next frame that is due — a timer for long waits, a blocking wait (no spinning) for
 * the last ~2 ms so the schedule is kept.
 */
import { nowNs } from './plan.ts';

const sab = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ns` without spinning (Atomics.wait on a value nobody changes). */
export const sleepSyncNs = (ns: number): void => {
  if (ns > 0) Atomics.wait(sab, 0, 0, ns / 1e6);
};
const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class SendClock {
  private readonly t0 = process.hrtime.bigint();
  private lastYieldNs = 0;
  private nextProgressNs = 1e9;

  /** `progress(elapsedNs)` is called at most once a second. */
  constructor(private readonly progress?: (elapsedNs: number) => void) {}

  /** ns since the loop started */
  now(): number {
    return nowNs(this.t0);
  }

  /** Call at the top of each turn. True when it gave the event loop a turn: re-check state before sending. */
  async housekeep(now: number): Promise<boolean> {
    if (now >= this.nextProgressNs) {
      this.progress?.(now);
      this.nextProgressNs = now + 1e9;
    }
    if (now - this.lastYieldNs < 10e6) return false;
    this.lastYieldNs = now;
    await new Promise<void>((r) => setImmediate(r));
    return true;
  }

  /** Wait until `dueNs` (loop time). */
  async waitUntil(dueNs: number): Promise<void> {
    const wait = dueNs - this.now();
    if (wait > 2e6) {
      await sleepMs(Math.floor((wait - 1e6) / 1e6));
      this.lastYieldNs = this.now();
    } else sleepSyncNs(wait);
  }
}
