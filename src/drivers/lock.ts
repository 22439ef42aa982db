/**
 * One user of a chain at a time. Two runs through the same chain mix their packets (same flows, same IP ID
 * space) and both fail with nonsense; `chain up`/`down`/`fault` during a run would silently wreck it. So a
 * run and every verb that changes the chain hold the chain's lock, a file naming its holder:
 *
 *   /run/chainprobe/locks/<name>.lock   {"pid":…, "command":"chainprobe run --profile …", "purpose":"run",
 *                                        "startedAt":"…", "procStart":"…"}
 *
 * Created with link(2), so exactly one process wins. A holder that died (its pid gone, or reused by another
 * process: /proc/PID/stat start time differs) is stale and is taken over. In one process the lock is
 * re-entrant (a suite file holds it; its runs and faults take it again). Released on exit, even on Ctrl-C.
 */

import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { ChainprobeError } from '../errors.ts';

/** Read on use, so a test (or a second lab) can point it elsewhere. */
export const lockDir = () => process.env.CHAINPROBE_LOCK_DIR ?? '/run/chainprobe/locks';

export interface LockHolder {
  pid: number;
  /** the holder's command line, secrets (--sa-key) redacted */
  command: string;
  /** what it holds the chain for: "run", "chain up", "suite delivery.test.ts" */
  purpose: string;
  startedAt: string;
  host: string;
  /** /proc/PID/stat start time (clock ticks since boot): tells a live holder from a reused pid */
  procStart: string;
}

export interface LockOptions {
  /** Wait for the holder to finish instead of refusing (`--wait`). */
  wait?: boolean;
  /** Give up waiting after this long (default: wait as long as it takes). */
  waitTimeoutMs?: number;
  /** Told once when the lock is busy and we wait. */
  onWait?: (holder: LockHolder) => void;
}

export interface ChainLock {
  readonly name: string;
  readonly holder: LockHolder;
  /** The previous holder, when its process had died and this lock was taken over. */
  readonly tookOverFrom?: LockHolder;
  release(): void;
}

const lockPath = (name: string) => join(lockDir(), `${name}.lock`);

/** Held in this process: name → depth (re-entrant) and our holder record. */
const held = new Map<string, { depth: number; holder: LockHolder }>();
let exitHook = false;

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // exited, not yet reaped
    return fields[19]; // field 22 of stat(5): starttime
  } catch {
    return undefined;
  }
}

/** Our command line for the holder record, without secrets. */
function commandLine(): string {
  const args = process.argv.slice(2);
  const shown = args.map((a, i) =>
    a.startsWith('--sa-key=') ? '--sa-key=<redacted>' : args[i - 1] === '--sa-key' ? '<redacted>' : a,
  );
  const bin = basename(process.argv[1] ?? process.argv0).replace(/\.(js|ts|mjs)$/, '');
  return [bin, ...shown].join(' ');
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} (${h.command}) for ${h.purpose}, since ${h.startedAt}`;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isInteger(h.pid) ? h : undefined;
  } catch {
    return undefined;
  }
}

const isLive = (h: LockHolder) => h.host === hostname() && procStart(h.pid) === h.procStart;

/** The live holder of a chain's lock, if any (a stale record counts as free). */
export function chainLockHolder(name: string): LockHolder | undefined {
  const h = readHolder(lockPath(name));
  return h && isLive(h) ? h : undefined;
}

function tryCreate(path: string, holder: LockHolder): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o644 });
  try {
    linkSync(tmp, path); // atomic: fails with EEXIST if anyone holds it
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Moves a stale record aside; if a live lock slipped in between our read and the rename, puts it back. */
function takeOver(path: string, stale: LockHolder | undefined): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else took it over first
  }
  const moved = readHolder(aside);
  if (moved && isLive(moved) && (!stale || moved.pid !== stale.pid || moved.procStart !== stale.procStart)) {
    try {
      linkSync(aside, path);
    } catch {
      /* a third process created it meanwhile: it holds the lock now */
    }
  }
  rmSync(aside, { force: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the named chain lock for `purpose`. Busy → E_CHAIN_BUSY naming the holder (pid, command, start
 * time), or with `wait` waits until it is free. A dead holder's lock is taken over.
 */
export async function acquireChainLock(
  name: string,
  purpose: string,
  o: LockOptions = {},
): Promise<ChainLock> {
  const mine = held.get(name);
  if (mine) {
    mine.depth++;
    return lease(name, mine.holder);
  }
  mkdirSync(lockDir(), { recursive: true, mode: 0o755 });
  const path = lockPath(name);
  const holder: LockHolder = {
    pid: process.pid,
    command: commandLine(),
    purpose,
    startedAt: new Date().toISOString(),
    host: hostname(),
    procStart: procStart(process.pid) ?? '',
  };
  const deadline = o.waitTimeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + o.waitTimeoutMs;
  let told = false;
  let tookOverFrom: LockHolder | undefined;
  for (;;) {
    if (tryCreate(path, holder)) break;
    const current = readHolder(path);
    if (!current || !isLive(current)) {
      tookOverFrom = current;
      takeOver(path, current);
      continue;
    }
    const busy = `the ${name} chain is in use by ${describeHolder(current)}`;
    if (!o.wait)
      throw new ChainprobeError('E_CHAIN_BUSY', `${busy}; wait for it with --wait, or stop it first`, false, {
        holder: current,
      });
    if (Date.now() > deadline)
      throw new ChainprobeError(
        'E_CHAIN_BUSY',
        `${busy}; gave up waiting after ${o.waitTimeoutMs} ms`,
        false,
        {
          holder: current,
        },
      );
    if (!told) o.onWait?.(current);
    told = true;
    await sleep(100);
  }
  held.set(name, { depth: 1, holder });
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const n of held.keys()) removeIfOurs(n);
    });
  }
  return lease(name, holder, tookOverFrom);
}

function removeIfOurs(name: string): void {
  const h = readHolder(lockPath(name));
  if (h?.pid === process.pid) {
    try {
      unlinkSync(lockPath(name));
    } catch {
      /* already gone */
    }
  }
  held.delete(name);
}

function lease(name: string, holder: LockHolder, tookOverFrom?: LockHolder): ChainLock {
  let released = false;
  return {
    name,
    holder,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    release() {
      if (released) return;
      released = true;
      const mine = held.get(name);
      if (!mine) return;
      if (--mine.depth === 0) removeIfOurs(name);
    },
  };
}

/** Runs `fn` holding the chain's lock. */
export async function withChainLock<T>(
  name: string,
  purpose: string,
  o: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireChainLock(name, purpose, o);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
