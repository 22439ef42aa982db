/** The UDP sink at the destination hop: start it, and read its counters (it dumps them on SIGUSR1). */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChainprobeError } from '../../errors.ts';
import { inNetns } from './command.ts';
import { isAlive, spawnInNetns, waitFor } from './daemon.ts';
import { readJson, runPath } from './rundir.ts';
import type { Topology } from './topology.ts';

export const PYTHON = '/usr/bin/python3'; // Debian's interpreter (G8); the sink needs only its stdlib
const SINK_PY = fileURLToPath(new URL('./sink.py', import.meta.url));
const PROBE_PY = fileURLToPath(new URL('./probe.py', import.meta.url));

export interface SinkCounters {
  bind: string;
  pid: number;
  /** how many times the sink wrote this file */
  dumps: number;
  packets: number;
  bytes: number;
  /** datagram payload size (bytes, as a string) → count */
  sizes: Record<string, number>;
  /** source IP → count */
  sources: Record<string, number>;
  startedAt: number;
  lastAt: number | null;
}

export const sinkCountersPath = () => runPath('sink.json');

export function startSink(t: Topology): number {
  return spawnInNetns(
    t.ns.dst,
    PYTHON,
    [SINK_PY, t.dst.sinkIp, String(t.dst.sinkPort), sinkCountersPath()],
    runPath('sink.log'),
  );
}

/** Asks the sink for fresh counters and waits until it has written them. */
export async function readSink(pid: number, timeoutMs = 10_000): Promise<SinkCounters> {
  if (!isAlive(pid)) throw new ChainprobeError('E_CHAIN', `the UDP sink (pid ${pid}) is not running`);
  // The sink writes its first dump only after installing its SIGUSR1 handler. Signalling it earlier (a
  // slow Python start on a loaded machine) would kill it: SIGUSR1's default action is to terminate.
  const started = await waitFor(
    'UDP sink start',
    () => {
      const c = readJson<SinkCounters>(sinkCountersPath());
      return c && c.pid === pid ? c : undefined;
    },
    timeoutMs,
    10,
  );
  const before = started.dumps;
  process.kill(pid, 'SIGUSR1');
  return waitFor(
    'UDP sink counters',
    () => {
      try {
        statSync(sinkCountersPath());
      } catch {
        return undefined;
      }
      const c = readJson<SinkCounters>(sinkCountersPath());
      return c && c.dumps > before ? c : undefined;
    },
    timeoutMs,
    10,
  );
}

export interface ProbeOptions {
  size: number;
  count?: number;
  pps?: number;
  /** UDP source port in the injector namespace (default: the profile's inner source port) */
  srcPort?: number;
}

/** Sends UDP datagrams from the injector namespace through the kernel VXLAN device probe0 (not our engine). */
export async function sendProbe(t: Topology, o: ProbeOptions): Promise<void> {
  const count = o.count ?? 1;
  const timeoutMs = 5000 + (o.pps ? (count / o.pps) * 1000 : count);
  await inNetns(
    t.ns.gen,
    PYTHON,
    [
      PROBE_PY,
      t.gen.probeIp,
      String(o.srcPort ?? t.gen.probePort),
      t.nat.matchIp,
      String(t.nat.matchPort),
      String(o.size),
      String(count),
      String(o.pps ?? 0),
    ],
    { timeoutMs },
  );
}
