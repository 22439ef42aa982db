/**
 * The chain's run directory (root-only, 0700): everything `up` creates on disk lives here, and the record
 * of what it started, so that `down` — or the next `up` — can remove what a killed run left behind.
 *
 *   /run/chainprobe/refchain/
 *     state.json            namespaces and daemons (pid, netns, what) of the current chain
 *     sas.json              live ESP SAs with keys (0600) — read by loadRuntimeSas()
 *     faults.json           active faults per hop
 *     sink.json             the UDP sink's counters (written by the sink on SIGUSR1 / exit)
 *     sec/, dst/            each charon's private /run (bind-mounted): strongswan.conf, swanctl.conf (PSK),
 *                           charon.log, keys.log (chd = 4: secrets), charon.vici
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_DIR = process.env.CHAINPROBE_REFCHAIN_DIR ?? '/run/chainprobe/refchain';

export const runPath = (...parts: string[]) => join(RUN_DIR, ...parts);

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/** Atomic, root-only write: readers never see half a file, and secrets are never world-readable. */
export function writePrivate(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export interface DaemonRecord {
  what: 'charon-security' | 'charon-destination' | 'sink' | `collector-${string}`;
  pid: number;
  netns: string;
  startedAt: string;
}

export interface ChainState {
  profile: string;
  namespaces: string[];
  daemons: DaemonRecord[];
  /** the flow-collector family `up` chose (collector/kinds.ts); absent in states from before families */
  collectors?: string;
  upAt?: string;
}

export const statePath = () => runPath('state.json');
export const readState = () => readJson<ChainState>(statePath());
export const writeState = (s: ChainState) => writePrivate(statePath(), `${JSON.stringify(s, null, 2)}\n`);
