/**
 * From a profile's capture point to the options startCapture takes: interface, direction and snaplen from
 * the point, the filter from its stage (filter.ts), the transport from its hop (opened by the caller).
 */
import type { Profile } from '../chain/profile.ts';
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';
import type { CaptureOptions } from './capture.ts';
import { filterForStage } from './filter.ts';

export function captureOptionsForPoint(
  profile: Profile,
  pointName: string,
  transport: Transport,
  extra: Partial<Omit<CaptureOptions, 'name' | 'transport' | 'interface'>> = {},
): CaptureOptions {
  const point = profile.captures.find((c) => c.name === pointName);
  if (!point)
    throw new ChainprobeError(
      'E_CONFIG',
      `no capture point "${pointName}" in profile ${profile.name} (have: ${profile.captures.map((c) => c.name).join(', ')})`,
      true,
    );
  return {
    name: point.name,
    transport,
    interface: point.interface,
    direction: point.direction,
    snaplenBytes: point.snaplenBytes,
    filter: filterForStage(profile, point.stage),
    ...extra,
  };
}
