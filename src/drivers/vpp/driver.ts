/**
 * The VPP driver: a chain whose hops are FD.io VPP instances, each reached with `vppctl` through the
 * hop's transport (docker exec, netns, SSH). chainprobe does not bring such a chain up or down (the
 * operator's containers do); it reads it, faults it and counts through it:
 *
 *   status        `show interface addr` / `show hardware-interfaces` per hop
 *   setFault      down → `set interface state <ingress> down`; mtu → `set interface mtu packet N <egress>`
 *                 (a drop fraction needs VPP's nsim plugin, which the users' build does not load: not offered)
 *   activeFaults  from a small state file, with the CLI that undoes each fault (clearFaults runs it)
 *   runtimeKeys   `show ipsec sa` → the SA with the profile's SPI → `show ipsec sa N` (keys never logged)
 *   counters      `show interface` + `show errors` + `show ipsec sa N` + `show nat44 sessions` per hop,
 *                 as named counters (if/…, err/<node>/<reason>, sa/…, nat44/…) for before/after deltas
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeSaKey } from '../../chain/oracle.ts';
import type { HopSpec, Profile } from '../../chain/profile.ts';
import { ChainprobeError } from '../../errors.ts';
import { openTransport } from '../../transport/index.ts';
import type { CounterSnapshot } from '../counters.ts';
import type { ChainDriver, DriverStatus, HopStatus, HopTrace } from '../driver.ts';
import type { ActiveFault, Fault } from '../fault.ts';
import { type LockOptions, withChainLock } from '../lock.ts';
import { parseShowInterface } from './parse/interface.ts';
import { parseShowTrace } from './parse/trace.ts';
import { readCounters, readInterfaces, readRuntimeKeys } from './read.ts';
import { summarizeStories, traceStory } from './trace-story.ts';
import { Vppctl } from './vppctl.ts';

const STATE_DIR = process.env.CHAINPROBE_STATE_DIR ?? '/run/chainprobe/vpp';

interface FaultRecord extends ActiveFault {
  /** VPP CLI that restores what the fault changed */
  undo: string[];
}

export class VppDriver implements ChainDriver {
  readonly name = 'vpp';
  readonly faultKinds = ['down', 'mtu'] as const;
  readonly lockName: string;

  constructor(readonly profile: Profile) {
    this.lockName = `vpp-${profile.name}`;
  }

  protected vppHops(): HopSpec[] {
    return this.profile.hops.filter((h) => h.vpp);
  }

  /** Runs fn with a vppctl for the hop, closing the transport after. */
  async withVppOf<T>(hop: HopSpec, fn: (vpp: Vppctl) => Promise<T>): Promise<T> {
    return this.withVpp(hop, fn);
  }

  protected async withVpp<T>(hop: HopSpec, fn: (vpp: Vppctl) => Promise<T>): Promise<T> {
    const t = await openTransport(hop.transport);
    try {
      return await fn(Vppctl.forHop(hop, t));
    } finally {
      await t.close();
    }
  }

  protected hop(name: string): HopSpec {
    const h = this.profile.hops.find((x) => x.name === name);
    if (!h?.vpp)
      throw new ChainprobeError(
        'E_CONFIG',
        `hop "${name}" is not a VPP hop of profile ${this.profile.name}; VPP hops: ${this.vppHops()
          .map((x) => x.name)
          .join(', ')}`,
        true,
      );
    return h;
  }

  private statePath(): string {
    return join(STATE_DIR, `${this.profile.name}-faults.json`);
  }

  private readFaults(): FaultRecord[] {
    try {
      return JSON.parse(readFileSync(this.statePath(), 'utf8')) as FaultRecord[];
    } catch {
      return [];
    }
  }

  private writeFaults(f: FaultRecord[]): void {
    mkdirSync(STATE_DIR, { recursive: true });
    if (f.length === 0) rmSync(this.statePath(), { force: true });
    else writeFileSync(this.statePath(), JSON.stringify(f, null, 2));
  }

  async activeFaults(): Promise<ActiveFault[]> {
    return this.readFaults().map(({ hop, fault }) => ({ hop, fault }));
  }

  async setFault(hopName: string, fault: Fault, o?: LockOptions): Promise<ActiveFault[]> {
    const hop = this.hop(hopName);
    const vppSpec = hop.vpp!;
    return withChainLock(this.lockName, 'chain fault', o ?? {}, async () => {
      const { apply, undo } = await this.withVpp(hop, async (vpp) => {
        if (fault.kind === 'down') {
          const ifc = need(vppSpec.ingress, hop.name, 'ingress');
          return { apply: [`set interface state ${ifc} down`], undo: [`set interface state ${ifc} up`] };
        }
        if (fault.kind === 'mtu') {
          const ifc = need(vppSpec.egress, hop.name, 'egress');
          const now = parseShowInterface(await vpp.exec(`show interface ${ifc}`)).find((i) => i.name === ifc);
          const was = now?.mtu.l3 ?? 9000;
          return {
            apply: [`set interface mtu packet ${fault.mtuBytes} ${ifc}`],
            undo: [`set interface mtu packet ${was} ${ifc}`],
          };
        }
        throw new ChainprobeError(
          'E_CONFIG',
          `the VPP driver cannot inject "${fault.kind}" (it can: ${this.faultKinds.join(', ')}; a drop fraction needs VPP's nsim plugin)`,
          true,
        );
      });
      await this.withVpp(hop, async (vpp) => {
        for (const line of apply) await vpp.exec(line);
      });
      const faults = [...this.readFaults(), { hop: hop.name, fault, undo }];
      this.writeFaults(faults);
      return faults.map(({ hop: h, fault: f }) => ({ hop: h, fault: f }));
    });
  }

  async clearFaults(hopName?: string, o?: LockOptions): Promise<ActiveFault[]> {
    return withChainLock(this.lockName, 'chain fault --clear', o ?? {}, async () => {
      const all = this.readFaults();
      const keep: FaultRecord[] = [];
      // undo newest first: two faults on one interface restore the original value
      for (const f of [...all].reverse()) {
        if (hopName && f.hop !== hopName) {
          keep.unshift(f);
          continue;
        }
        await this.withVpp(this.hop(f.hop), async (vpp) => {
          for (const line of f.undo) await vpp.exec(line);
        });
      }
      this.writeFaults(keep);
      return keep.map(({ hop, fault }) => ({ hop, fault }));
    });
  }

  async status(): Promise<DriverStatus> {
    const hops: HopStatus[] = [];
    const problems: string[] = [];
    const faults = await this.activeFaults();
    for (const hop of this.vppHops()) {
      try {
        const interfaces = await this.withVpp(hop, (vpp) => readInterfaces(vpp));
        hops.push({
          name: hop.name,
          place: hop.transport.kind,
          reachable: true,
          interfaces,
          faults: faults.filter((f) => f.hop === hop.name).map((f) => f.fault),
        });
        for (const i of interfaces)
          if (i.state !== 'up' && i.name !== 'local0') problems.push(`${hop.name}: ${i.name} is ${i.state}`);
      } catch (e) {
        hops.push({
          name: hop.name,
          place: hop.transport.kind,
          reachable: false,
          interfaces: [],
          faults: [],
        });
        problems.push(`${hop.name}: ${(e as Error).message}`);
      }
    }
    return {
      driver: this.name,
      profile: this.profile.name,
      up: hops.some((h) => h.reachable),
      healthy: problems.length === 0,
      problems,
      hops,
      notes: [],
    };
  }

  private tracedPackets = 0;

  async armTrace(packets: number): Promise<void> {
    this.tracedPackets = packets;
    for (const hop of this.vppHops())
      await this.withVpp(hop, async (vpp) => {
        await vpp.exec('clear trace');
        await vpp.exec(`trace add af-packet-input ${packets}`);
      });
  }

  async readTraces(): Promise<HopTrace[]> {
    const out: HopTrace[] = [];
    for (const hop of this.vppHops()) {
      const packets = await this.withVpp(hop, async (vpp) =>
        parseShowTrace(await vpp.exec(`show trace max ${Math.max(1, this.tracedPackets)}`)),
      );
      out.push({
        hop: hop.name,
        traced: packets.length,
        findings: summarizeStories(packets.map(traceStory)),
      });
    }
    return out;
  }

  async runtimeKeys(): Promise<RuntimeSaKey[]> {
    return readRuntimeKeys(this);
  }

  async counters(): Promise<CounterSnapshot> {
    return readCounters(this);
  }
}

function need(v: string | undefined, hop: string, which: 'ingress' | 'egress'): string {
  if (!v)
    throw new ChainprobeError(
      'E_CONFIG',
      `hop "${hop}" does not name its VPP ${which} interface ("vpp": { "${which}": "host-eth0" })`,
      true,
    );
  return v;
}
