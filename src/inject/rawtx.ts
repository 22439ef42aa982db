/**
 * Loader for the batched raw IPv4 sender, the N-API addon native/rawtx (one sendmmsg per batch).
 * Built by the set-up script: `npx -c 'node-gyp rebuild -C native/rawtx'` (offline, against the headers
 * of npm's `nodedir`). When it is not built, or CHAINPROBE_NO_NATIVE=1, `loadRawtx()` returns null and the
 * raw injector falls back to raw-socket (one sendto per packet).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const RAWTX_DIR = join(here, '..', '..', 'native', 'rawtx');
export const RAWTX_BUILD_COMMAND = "npx -c 'node-gyp rebuild -C native/rawtx'";

export interface RawtxAddon {
  /** Raw IPv4 socket (IPPROTO_RAW, IP_HDRINCL, non-blocking), in the namespace at `netnsPath` if given. */
  open(netnsPath?: string): number;
  close(fd: number): void;
  /**
   * One sendmmsg of packets start … start+count-1 (buf[offsets[i] … +lengths[i]]), count ≤ MAX_BATCH.
   * Returns how many the kernel took (fewer when packet start+n failed), or -errno when the first failed.
   */
  sendBatch(
    fd: number,
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    start: number,
    count: number,
  ): number;
  /** poll(POLLOUT): 1 writable, 0 timed out, -errno. Blocks this thread up to timeoutMs. */
  waitWritable(fd: number, timeoutMs: number): number;
  strerror(errno: number): string;
  readonly MAX_BATCH: number;
}

let cached: { addon: RawtxAddon | null; why?: string } | undefined;

/** The addon, or null (not built, fails to load, or CHAINPROBE_NO_NATIVE=1); `rawtxUnavailable()` says why. */
export function loadRawtx(): RawtxAddon | null {
  if (process.env.CHAINPROBE_NO_NATIVE === '1') return null;
  if (!cached) {
    const file = join(RAWTX_DIR, 'build', 'Release', 'rawtx.node');
    if (!existsSync(file)) cached = { addon: null, why: `${file} is not built (${RAWTX_BUILD_COMMAND})` };
    else {
      try {
        cached = { addon: createRequire(import.meta.url)(file) as RawtxAddon };
      } catch (e) {
        cached = { addon: null, why: `${file} does not load: ${(e as Error).message}` };
      }
    }
  }
  return cached.addon;
}

export function rawtxUnavailable(): string | undefined {
  if (process.env.CHAINPROBE_NO_NATIVE === '1') return 'CHAINPROBE_NO_NATIVE=1';
  loadRawtx();
  return cached?.why;
}
