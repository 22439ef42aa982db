/**
 * Which driver manages a profile's chain: the profile's `driver` field, looked up here. A new lab (VPP in
 * containers, VMs over SSH) registers its driver; nothing else changes.
 */

import { registerCaptureBackend } from '../capture/backend.ts';
import type { Profile } from '../chain/profile.ts';
import { ChainprobeError } from '../errors.ts';
import type { ChainDriver } from './driver.ts';
import { ExternalDriver } from './external.ts';
import { RefchainDriver } from './refchain/driver.ts';
import { VppDriver } from './vpp/driver.ts';
import { vppPcapBackend } from './vpp/pcap-trace.ts';

export type DriverFactory = (profile: Profile) => ChainDriver;

const drivers = new Map<string, DriverFactory>([
  ['refchain', (p) => new RefchainDriver(p)],
  ['external', (p) => new ExternalDriver(p)],
  ['vpp', (p) => new VppDriver(p)],
]);

// VPP's pcap trace is a capture backend only VPP hops use; it registers with the driver that needs it.
registerCaptureBackend(vppPcapBackend);

export function registerDriver(name: string, factory: DriverFactory): void {
  drivers.set(name, factory);
}

export const driverNames = (): string[] => [...drivers.keys()];

/** The driver the profile names (default "refchain"); an unknown name is a profile error (exit 2). */
export function driverFor(profile: Profile): ChainDriver {
  const name = profile.driver ?? 'refchain';
  const factory = drivers.get(name);
  if (!factory)
    throw new ChainprobeError(
      'E_CONFIG',
      `profile ${profile.name} names driver "${name}"; drivers are ${driverNames().join(', ')}`,
      true,
    );
  return factory(profile);
}
