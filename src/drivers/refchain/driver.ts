/**
 * The reference chain as a ChainDriver. One reference chain per host (namespaces rc-*, /run/chainprobe/
 * refchain), so one lock for every reference-chain profile.
 */
import type { CapturePointSpec, Profile } from '../../chain/profile.ts';
import { collectorFamily } from '../../collector/kinds.ts';
import type { CounterSnapshot } from '../counters.ts';
import type { CapturePlace, ChainDriver, DriverStatus, DriverUpOptions } from '../driver.ts';
import { requireFaultKind } from '../driver.ts';
import type { ActiveFault, Fault, FaultKind } from '../fault.ts';
import { chainLockHolder, type LockOptions, withChainLock } from '../lock.ts';
import { command } from './command.ts';
import { readCounters } from './counters.ts';
import type { ActiveFaults } from './fault.ts';
import { readFaults } from './fault.ts';
import {
  chainDown,
  chainStatus,
  chainUp,
  clearFaults,
  loadRuntimeSas,
  readChainCollectors,
  resetChainCollectors,
  setFault,
} from './index.ts';
import { readState } from './rundir.ts';
import { type Topology, topologyOf } from './topology.ts';

const flatten = (all: ActiveFaults): ActiveFault[] =>
  Object.entries(all).flatMap(([hop, fs]) => (fs ?? []).map((fault) => ({ hop, fault })));

export class RefchainDriver implements ChainDriver {
  readonly name = 'refchain';
  readonly lockName = 'refchain';
  readonly faultKinds: readonly FaultKind[] = ['drop', 'rate', 'down', 'rewrite-source'];
  private topo?: Topology;

  constructor(readonly profile: Profile) {}

  /** Validated on use: `run` on a profile that is not a reference-chain topology never needs it. */
  private topology(): Topology {
    this.topo ??= topologyOf(this.profile);
    return this.topo;
  }

  async up(o: DriverUpOptions = {}) {
    this.topology(); // a profile that cannot be a reference chain is bad input before the lock is taken
    if (o.collectors) collectorFamily(o.collectors); // so is an unknown collector family
    return withChainLock(this.lockName, 'chain up', o, async () => {
      const r = await chainUp({
        profile: this.profile,
        log: o.log,
        timeoutMs: o.timeoutMs,
        collectors: o.collectors,
      });
      return {
        summary: [
          `SAs: ${r.sas.map((s) => `SPI ${s.spi} ${s.src} → ${s.dst}`).join(', ')} (keys for the analyser in a root-only file)`,
          `daemons: ${r.daemons.map((d) => `${d.what} pid ${d.pid} (${d.netns})`).join(', ')}`,
        ],
        tookMs: r.timingsMs.total,
      };
    });
  }

  async down(o: LockOptions = {}) {
    return withChainLock(this.lockName, 'chain down', o, async () => {
      const r = await chainDown({ profile: this.profile });
      return {
        removed: [...r.namespaces.map((n) => `namespace ${n}`), ...r.killed.map((p) => `pid ${p}`)],
        tookMs: r.tookMs,
      };
    });
  }

  async status(): Promise<DriverStatus> {
    const s = await chainStatus();
    const notes: string[] = [];
    for (const sa of s.sas)
      for (const c of sa.children)
        notes.push(
          `SA ${sa.hop}: IKE ${sa.ike}; ${c.child} ${c.state} ${c.protocol}${c.encap ? '-in-UDP' : ''} ${c.encryption} spi in ${c.spiIn} out ${c.spiOut}; in ${c.packetsIn} pkts, out ${c.packetsOut} pkts`,
        );
    for (const d of s.daemons)
      notes.push(`daemon ${d.what} pid ${d.pid} in ${d.netns}: ${d.alive ? 'running' : 'NOT RUNNING'}`);
    if (s.sink)
      notes.push(
        `sink ${s.sink.bind}: ${s.sink.packets} datagrams; sizes ${JSON.stringify(s.sink.sizes)}; sources ${JSON.stringify(s.sink.sources)}`,
      );
    const lockedBy = chainLockHolder(this.lockName);
    return {
      driver: this.name,
      profile: s.profile ?? this.profile.name,
      up: s.up,
      healthy: s.healthy,
      problems: s.problems,
      hops: s.hops.map((h) => ({
        name: h.name,
        place: `netns ${h.namespace}`,
        reachable: h.exists,
        interfaces: h.interfaces,
        faults: h.faults,
      })),
      notes,
      ...(lockedBy ? { lockedBy } : {}),
      detail: s,
    };
  }

  async setFault(hop: string, fault: Fault, o: LockOptions = {}) {
    requireFaultKind(this, fault);
    return withChainLock(this.lockName, `chain fault ${hop} ${fault.kind}`, o, async () =>
      flatten(await setFault(hop, fault)),
    );
  }

  async clearFaults(hop?: string, o: LockOptions = {}) {
    return withChainLock(this.lockName, 'chain fault --clear', o, async () =>
      flatten(await clearFaults(hop)),
    );
  }

  resetCollectors(): Promise<void> {
    return resetChainCollectors();
  }

  readCollectors() {
    return readChainCollectors();
  }

  async activeFaults(): Promise<ActiveFault[]> {
    return readState() ? flatten(readFaults()) : [];
  }

  async runtimeKeys() {
    return loadRuntimeSas().map((sa) => ({ spi: sa.spi, key: sa.key, salt: sa.salt }));
  }

  async counters(): Promise<CounterSnapshot> {
    const sink = readState()?.daemons.find((d) => d.what === 'sink');
    return readCounters(this.topology(), sink?.pid);
  }

  /**
   * A point on a hop's ingress veth whose link is down (fault --down) cannot be opened by tcpdump: capture
   * it on the veth's peer in the neighbouring namespace instead, so the run still starts and shows the loss
   * at that point (the peer's kernel counts the drops as tx_dropped).
   */
  async capturePlace(point: CapturePointSpec): Promise<CapturePlace | undefined> {
    let t: Topology;
    try {
      t = this.topology();
    } catch {
      return undefined; // not a reference-chain topology: nothing of ours to move
    }
    const peers: Record<string, { ns: string; peerNs: string; peer: string }> = {
      [`${t.ns.vx}/${t.vx.in}`]: { ns: t.ns.vx, peerNs: t.ns.gen, peer: t.gen.link },
      [`${t.ns.sec}/${t.sec.in}`]: { ns: t.ns.sec, peerNs: t.ns.vx, peer: t.vx.out },
      [`${t.ns.dst}/${t.dst.in}`]: { ns: t.ns.dst, peerNs: t.ns.sec, peer: t.sec.out },
    };
    const hop = this.profile.hops.find((h) => h.name === point.hop);
    if (hop?.transport.kind !== 'netns') return undefined;
    const pair = peers[`${hop.transport.namespace}/${point.interface}`];
    if (!pair) return undefined;
    const r = await command('ip', ['-j', '-n', pair.ns, 'link', 'show', 'dev', point.interface], {
      check: false,
      timeoutMs: 5000,
    });
    if (r.exitCode !== 0) return undefined; // missing: the capture reports E_NO_INTERFACE itself
    const [link] = JSON.parse(r.stdout) as { flags: string[] }[];
    if (link.flags.includes('UP')) return undefined;
    const flip = { in: 'out', out: 'in', inout: 'inout' } as const;
    return {
      transport: { kind: 'netns', namespace: pair.peerNs },
      interface: pair.peer,
      direction: flip[point.direction],
      note: `${point.interface} in ${pair.ns} is down: capture point "${point.name}" taken on its veth peer ${pair.peer} in ${pair.peerNs} (direction ${flip[point.direction]})`,
    };
  }
}
