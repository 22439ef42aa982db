/**
 * The reference chain's flow collectors: one family (collector/kinds.ts) chosen at `chain up` — nfdump
 * (nfcapd for NetFlow/IPFIX, sfcapd for sFlow; the default) or pmacct (nfacctd, sfacctd) — in the destination
 * namespace on the collector address, one per collector kind, each on the default port of what it receives
 * (2055, 6343). The DNAT at the security hop sends the exporters' datagrams there; the probe flow keeps going
 * to the UDP sink. Started by `chain up` like the other daemons (recorded by pid, the family in the chain's
 * state, stopped by `chain down`), reset before a flow-export run and read after it (stop → read its view →
 * start empty).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CollectorReading } from '../../collector/collector.ts';
import { type CollectorKind, collectorFamily, DEFAULT_COLLECTOR_FAMILY } from '../../collector/kinds.ts';
import { ChainprobeError } from '../../errors.ts';
import { payloadKind } from '../../traffic/kinds.ts';
import { LocalTransport } from '../../transport/local.ts';
import { inNetns } from './command.ts';
import { isAlive, spawnInNetns, stopPids, waitFor } from './daemon.ts';
import {
  type ChainState,
  type DaemonRecord,
  ensureDir,
  runPath,
  writePrivate,
  writeState,
} from './rundir.ts';
import type { Topology } from './topology.ts';

export interface FlowCollector {
  kind: CollectorKind;
  address: string;
  port: number;
  dir: string;
  log: string;
  what: DaemonRecord['what'];
}

/** The port a collector listens on: the default port of the payload kinds it receives. */
function portOf(k: CollectorKind): number {
  const port = payloadKind(k.receives[0])?.defaultPort;
  if (!port) throw new ChainprobeError('E_CONFIG', `collector ${k.name}: no port for ${k.receives[0]}`);
  return port;
}

const familyOf = (state: ChainState): string => state.collectors ?? DEFAULT_COLLECTOR_FAMILY;

export function flowCollectors(t: Topology, family: string): FlowCollector[] {
  return collectorFamily(family).map((kind) => ({
    kind,
    address: t.dst.collectorIp,
    port: portOf(kind),
    dir: runPath(`collector-${kind.name}`),
    log: runPath(`collector-${kind.name}.log`),
    what: `collector-${kind.name}`,
  }));
}

/** Every collector's port: the DNAT rules that send exporters to them (topology.ts natRuleset). */
export const collectorPorts = (family: string): number[] => collectorFamily(family).map(portOf);

/** Starts one collector (empty directory, fresh log, its config files) and waits until it listens. */
async function startOne(t: Topology, c: FlowCollector, timeoutMs: number): Promise<number> {
  rmSync(c.dir, { recursive: true, force: true });
  rmSync(c.log, { force: true });
  ensureDir(c.dir);
  const { argv, files } = c.kind.launch({ address: c.address, port: c.port, dir: c.dir });
  for (const [name, text] of Object.entries(files)) writePrivate(join(c.dir, name), text);
  const [bin, ...args] = argv;
  const pid = spawnInNetns(t.ns.dst, bin, args, c.log);
  await waitFor(
    `${c.kind.name} on ${c.address}:${c.port}`,
    () => {
      if (!isAlive(pid))
        throw new ChainprobeError('E_CHAIN', `${c.kind.name} exited: ${readLog(c).trim().slice(-400)}`);
      return c.kind.ready(readLog(c)) || undefined;
    },
    timeoutMs,
  );
  return pid;
}

const readLog = (c: FlowCollector): string => {
  try {
    return readFileSync(c.log, 'utf8');
  } catch {
    return '';
  }
};

/** Starts the chain's collectors afresh (stopping a running one) and records them in the chain's state. */
export async function startCollectors(t: Topology, state: ChainState, timeoutMs: number): Promise<void> {
  for (const c of flowCollectors(t, familyOf(state))) {
    const old = state.daemons.find((d) => d.what === c.what);
    if (old) await stopPids([old.pid], c.kind.stop.graceMs, c.kind.stop.signal);
    const pid = await startOne(t, c, timeoutMs);
    state.daemons = state.daemons.filter((d) => d.what !== c.what);
    state.daemons.push({ what: c.what, pid, netns: t.ns.dst, startedAt: new Date().toISOString() });
    writeState(state);
  }
}

/**
 * Stops every collector (its stop signal: it writes out what it holds), reads its view (what it wrote and
 * its log: flows, sequence failures, exporters, bad packets) and its socket's drop counter (read before it
 * closes), then starts it again empty.
 */
export async function readCollectors(t: Topology, state: ChainState): Promise<CollectorReading[]> {
  const drops = await socketDrops(t);
  const collectors = flowCollectors(t, familyOf(state));
  const pids = collectors.map((c) => {
    const rec = state.daemons.find((d) => d.what === c.what);
    if (!rec || !isAlive(rec.pid)) throw new ChainprobeError('E_CHAIN', `${c.kind.name} is not running`);
    return rec.pid;
  });
  // together: pmacct's take 2–3.5 s each to write out and exit
  await Promise.all(collectors.map((c, i) => stopPids([pids[i]], c.kind.stop.graceMs, c.kind.stop.signal)));
  const out: CollectorReading[] = [];
  for (const c of collectors) {
    // the run directory is on this host's filesystem, shared by the namespaces
    const view = await c.kind.readView({ dir: c.dir, log: readLog(c), transport: new LocalTransport() });
    out.push({
      ...view,
      listen: `${c.address}:${c.port}`,
      socketDrops: drops.get(`${c.address}:${c.port}`) ?? null,
    });
  }
  await startCollectors(t, state, 10_000);
  return out;
}

/** UDP sockets' drop counters in the destination namespace, by local address:port (/proc/net/udp). */
async function socketDrops(t: Topology): Promise<Map<string, number>> {
  const r = await inNetns(t.ns.dst, 'cat', ['/proc/net/udp']);
  const out = new Map<string, number>();
  for (const line of r.stdout.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [hexIp, hexPort] = f[1].split(':');
    const n = Number.parseInt(hexIp, 16);
    // /proc/net/udp prints the address as the host-order word of network-order bytes (little-endian hosts)
    const ip = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
    out.set(`${ip}:${Number.parseInt(hexPort, 16)}`, Number(f[12]));
  }
  return out;
}
