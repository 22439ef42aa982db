/**
 * Long-running processes of the chain (charon ×2, the UDP sink): started detached inside a namespace so they
 * outlive `chain up`, recorded by pid, and stopped by pid — or found again through `ip netns pids` when a
 * killed run left no record.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { ChainprobeError } from '../../errors.ts';
import { command } from './command.ts';

/**
 * Starts `ip netns exec NS cmd args…` detached. `ip netns exec`, `unshare` and `sh -c 'exec …'` all exec,
 * so the pid we get is the daemon's own pid. No timeout: it is a daemon; it is stopped by `stopPids`.
 */
export function spawnInNetns(
  ns: string,
  cmd: string,
  args: string[],
  logFile: string,
  env?: Record<string, string>,
): number {
  closeSync(openSync(logFile, 'a', 0o600)); // root-only before anything is written to it
  // The shell (a fixed script; log file and command are positional arguments) redirects output to the log
  // and execs the daemon. Not execa's {file}: that pipes through our process and keeps `chain up` alive.
  const p = execa(
    'ip',
    ['netns', 'exec', ns, 'sh', '-c', 'f=$1; shift; exec "$@" >>"$f" 2>&1', 'sh', logFile, cmd, ...args],
    {
      detached: true,
      reject: false,
      stdio: 'ignore',
      env,
      extendEnv: true,
    },
  );
  p.catch(() => {});
  p.unref();
  if (!p.pid) throw new ChainprobeError('E_CHAIN', `could not start ${cmd} in ${ns}`);
  return p.pid;
}

/** Alive and not a zombie (killed daemons can stay zombies until PID 1 reaps them; they count as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function netnsPids(ns: string): Promise<number[]> {
  if (!existsSync(`/run/netns/${ns}`)) return [];
  const r = await command('ip', ['netns', 'pids', ns], { check: false, timeoutMs: 5000 });
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 1 && n !== process.pid);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM (or the daemon's own stop signal), then SIGKILL after `graceMs` (a charon wedged in libipsec
 * ignores SIGTERM, G4); returns when every process has exited. The pids still alive 10 s after SIGKILL are
 * returned (in D state, say).
 */
export async function stopPids(
  pids: number[],
  graceMs = 3000,
  stopSignal: NodeJS.Signals = 'SIGTERM',
): Promise<number[]> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  for (const pid of pids) signal(pid, stopSignal);
  const until = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < until) await sleep(25);
  const stubborn = pids.filter(isAlive);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  const killUntil = Date.now() + 10_000;
  while (stubborn.some(isAlive) && Date.now() < killUntil) await sleep(25);
  return stubborn.filter(isAlive);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 25,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new ChainprobeError('E_TIMEOUT', `${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
