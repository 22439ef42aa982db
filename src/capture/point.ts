/**
 * From a profile's capture point to the options startCapture takes: interface, direction and snaplen from
 * the point, the filter from its stage (filter.ts), the transport from its hop (opened by the caller).
 */
import type { CapturePointSpec, Profile } from '../chain/profile.ts';
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';
import type { CapturePointRequest } from './backend.ts';
import type { CaptureOptions } from './capture.ts';
import { filterForStage } from './filter.ts';
import type { Direction } from './tcpdump.ts';

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

/** Where a point is captured when not where the profile says (a driver moved it, e.g. its link is down). */
export interface PointPlace {
  transport: Transport;
  interface: string;
  direction: Direction;
  note: string;
}

/** A profile's capture point as its backend takes it: filter from the stage, file in `dir`. */
export function captureRequestForPoint(
  profile: Profile,
  point: CapturePointSpec,
  transport: Transport,
  o: {
    pcapPath: string;
    bufferKiB?: number;
    place?: PointPlace;
    expectedPackets?: number;
    /** a flow-export run's destination ports (capture/filter.ts) */
    flowPorts?: readonly number[];
  },
): CapturePointRequest {
  return {
    point,
    hop: profile.hops.find((h) => h.name === point.hop),
    ...(o.expectedPackets ? { expectedPackets: o.expectedPackets } : {}),
    transport: o.place?.transport ?? transport,
    interface: o.place?.interface ?? point.interface,
    direction: o.place?.direction ?? point.direction,
    filter: filterForStage(profile, point.stage, { flowPorts: o.flowPorts }),
    pcapPath: o.pcapPath,
    bufferKiB: o.bufferKiB,
    ...(o.place ? { relocated: o.place.note } : {}),
  };
}
