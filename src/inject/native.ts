/**
 * The AF_PACKET sender (native/afpacket-tx.c) is compiled on first use with the system C compiler into
 * a per-user cache keyed by the source's hash, so an edited source is rebuilt and concurrent runs share it.
 * No node-gyp, no install script: only `cc` (Debian: gcc) is needed, and only for the l2 injector.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ChainprobeError } from '../errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const AFPACKET_SOURCE = join(here, 'native', 'afpacket-tx.c');

export function cacheDir(): string {
  return join(
    process.env.CHAINPROBE_CACHE_DIR ??
      join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'chainprobe'),
  );
}

const built = new Map<string, Promise<string>>();

/** Path of the compiled helper, building it if needed. E_MISSING_TOOL when there is no C compiler. */
export function afpacketHelper(): Promise<string> {
  const key = `${process.env.CC ?? 'cc'}\0${cacheDir()}`;
  let p = built.get(key);
  if (!p) {
    p = build().catch((e) => {
      built.delete(key);
      throw e;
    });
    built.set(key, p);
  }
  return p;
}

async function build(): Promise<string> {
  const src = readFileSync(AFPACKET_SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = cacheDir();
  const bin = join(dir, `afpacket-tx-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const cc = process.env.CC ?? 'cc';
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = await execa(cc, ['-O2', '-Wall', '-o', tmp, AFPACKET_SOURCE], { reject: false, timeout: 60_000 });
  if ((r as { code?: string }).code === 'ENOENT')
    throw new ChainprobeError(
      'E_MISSING_TOOL',
      `a C compiler (${cc}) is needed to build the AF_PACKET injector once: apt-get install gcc`,
      false,
      { tool: cc },
    );
  if (r.exitCode !== 0)
    throw new ChainprobeError(
      'E_INJECT_FAILED',
      `building ${AFPACKET_SOURCE} failed: ${String(r.stderr).slice(-2000)}`,
    );
  renameSync(tmp, bin);
  return bin;
}
