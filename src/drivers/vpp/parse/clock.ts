/**
 * `show clock verbose` (vppinfra/time.c format_clib_time):
 *   Time now 22.013141, reftime 22.009841, error .003299, clocks/sec 2444391467.307904, Mon, 30 Nov …
 * "Time now" is VPP's CPU-clock time since start, "reftime" the kernel's wall clock since the same start,
 * both read in one call; "error" = now − reftime. VPP stamps its pcap traces with now + the kernel time at
 * start, so a pcap trace timestamp is the kernel's time plus this error: the offset of VPP's capture clock.
 */
import { unrecognised } from './text.ts';

export interface VppClock {
  nowS: number;
  reftimeS: number;
  /** VPP's clock − the kernel's clock, seconds (µs resolution as printed) */
  errorS: number;
}

export function parseShowClockVerbose(text: string): VppClock {
  const m = /Time now (-?[\d.]+), reftime (-?[\d.]+), error (-?[\d.]+)/.exec(text);
  if (!m) throw unrecognised('show clock verbose', 'no "Time now …, reftime …, error …" line', text);
  return { nowS: Number(m[1]), reftimeS: Number(m[2]), errorS: Number(m[3]) };
}
