/**
 * What the VPP driver reads from its hops, through the parsers (parse/): interface status, runtime SA
 * keys, counter snapshots. Each function runs a few `show` commands per hop; nothing here logs VPP's raw
 * text (`show ipsec sa N` prints keys).
 */
import type { RuntimeSaKey } from '../../chain/oracle.ts';
import type { HopSpec, Profile } from '../../chain/profile.ts';
import { ChainprobeError } from '../../errors.ts';
import type { CounterSnapshot } from '../counters.ts';
import type { InterfaceStatus } from '../driver.ts';
import { VPP_COUNTER_COMMANDS, vppCounters, vppInstanceOutput } from './counters.ts';
import {
  parseShowHardwareInterfaces,
  parseShowInterface,
  parseShowInterfaceAddr,
} from './parse/interface.ts';
import { parseShowIpsecSa, parseShowIpsecSaList } from './parse/ipsec.ts';
import type { Vppctl } from './vppctl.ts';

/** The driver as these functions need it: its profile and a way to run vppctl on a hop. */
export interface VppHops {
  readonly profile: Profile;
  withVppOf<T>(hop: HopSpec, fn: (vpp: Vppctl) => Promise<T>): Promise<T>;
}

export async function readInterfaces(vpp: Vppctl): Promise<InterfaceStatus[]> {
  const ifs = parseShowInterface(await vpp.exec('show interface'));
  const addrs = parseShowInterfaceAddr(await vpp.exec('show interface addr'));
  const hw = parseShowHardwareInterfaces(await vpp.exec('show hardware-interfaces'));
  return ifs.map((i) => ({
    name: i.name,
    mac: hw.find((h) => h.name === i.name)?.mac,
    mtu: i.mtu.l3,
    state: i.state,
    addresses: addrs.find((a) => a.name === i.name)?.l3 ?? [],
  }));
}

/** Keys of the profile's runtime-keyed SAs, from the first VPP hop that has an SA with that SPI. */
export async function readRuntimeKeys(d: VppHops): Promise<RuntimeSaKey[]> {
  const wanted = d.profile.stages.flatMap((s) =>
    s.transform?.kind === 'esp-encrypt' && typeof s.transform.sa.key !== 'string' ? [s.transform.sa.spi] : [],
  );
  const keys: RuntimeSaKey[] = [];
  for (const spi of wanted) {
    for (const hop of d.profile.hops.filter((h) => h.vpp)) {
      const key = await d.withVppOf(hop, async (vpp) => {
        const ref = parseShowIpsecSaList(await vpp.exec('show ipsec sa')).find((s) => s.spi === spi);
        if (!ref) return undefined;
        const sa = parseShowIpsecSa(await vpp.exec(`show ipsec sa ${ref.index}`));
        if (!sa) return undefined;
        const hex = sa.secret.reveal().crypto;
        if (!hex || hex.length < 32) return undefined;
        const salt = Buffer.alloc(4);
        salt.writeUInt32BE(sa.salt >>> 0);
        return {
          spi,
          key: Uint8Array.from(Buffer.from(hex.slice(0, 32), 'hex')),
          salt: Uint8Array.from(salt),
        };
      });
      if (key) {
        keys.push(key);
        break;
      }
    }
    if (!keys.some((k) => k.spi === spi))
      throw new ChainprobeError(
        'E_NO_SA_KEY',
        `no VPP hop of profile ${d.profile.name} has an SA with SPI ${spi} (show ipsec sa)`,
        false,
      );
  }
  return keys;
}

/** One snapshot of every VPP hop's counters (interfaces, errors, SAs, NAT sessions). */
export async function readCounters(d: VppHops): Promise<CounterSnapshot> {
  const started = Date.now();
  const hops: CounterSnapshot['hops'] = {};
  const severity: NonNullable<CounterSnapshot['severity']> = {};
  const unavailable: CounterSnapshot['unavailable'] = [];
  await Promise.all(
    d.profile.hops
      .filter((h) => h.vpp)
      .map(async (hop) => {
        try {
          const c = await d.withVppOf(hop, async (vpp) => {
            // two rounds of concurrent vppctl calls (each a process through the transport): the SA list,
            // then everything else at once. (One vppctl reading a script from stdin is not an option: some
            // commands, e.g. `show nat44 sessions`, take the following lines as their arguments.)
            const refs = parseShowIpsecSaList(await vpp.exec('show ipsec sa'));
            const clis = [...VPP_COUNTER_COMMANDS, ...refs.map((ref) => `show ipsec sa ${ref.index}`)];
            const answers = await Promise.all(
              clis.map(async (cli) => ({
                cli,
                // no NAT plugin on this hop: no sessions to count
                text: await vpp.exec(cli).catch((e) => {
                  if (cli === 'show nat44 sessions') return '';
                  throw e;
                }),
              })),
            );
            // an SA deleted between the list and its detail is skipped there ("No such SA index")
            return vppCounters(vppInstanceOutput(answers.filter((a) => a.text !== '')));
          });
          hops[hop.name] = c.counters;
          severity[hop.name] = c.severity;
        } catch (e) {
          unavailable.push({ hop: hop.name, reason: (e as Error).message });
        }
      }),
  );
  return {
    driver: 'vpp',
    takenAt: new Date().toISOString(),
    hops,
    severity,
    unavailable,
    tookMs: Date.now() - started,
  };
}
