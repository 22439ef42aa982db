/**
 * Collector kinds and families. A kind is one daemon (nfcapd, sfacctd, …: types.ts says what each knows:
 * how it starts, what says it listens, how it stops, how its view is read back). A family is the set of
 * daemons chosen together, one per payload kind: `nfdump` (nfcapd + sfcapd, the default) or `pmacct`
 * (nfacctd + sfacctd, which also check sFlow sequence numbers).
 */
import { ChainprobeError } from '../errors.ts';
import { NFDUMP_KINDS } from './nfdump.ts';
import { PMACCT_KINDS } from './pmacct.ts';
import type { CollectorKind } from './types.ts';

export type { CollectorKind } from './types.ts';

export const DEFAULT_COLLECTOR_FAMILY = 'nfdump';

const KINDS = new Map<string, CollectorKind>([...NFDUMP_KINDS, ...PMACCT_KINDS].map((k) => [k.name, k]));

export function collectorKind(name: string): CollectorKind | undefined {
  return KINDS.get(name);
}

export function collectorKindNames(): string[] {
  return [...KINDS.keys()];
}

/** The family's kinds, in registration order; an unknown family is bad input (E_CONFIG, exit 2). */
export function collectorFamily(family: string): CollectorKind[] {
  const kinds = [...KINDS.values()].filter((k) => k.family === family);
  if (kinds.length === 0)
    throw new ChainprobeError(
      'E_CONFIG',
      `collector family "${family}": expected one of ${collectorFamilyNames().join(', ')}`,
      true,
    );
  return kinds;
}

export function collectorFamilyNames(): string[] {
  return [...new Set([...KINDS.values()].map((k) => k.family))];
}

/** The collector of a family that receives a payload kind (nfdump: nfcapd for NetFlow/IPFIX, sfcapd for sFlow). */
export function collectorFor(
  payloadKind: string,
  family: string = DEFAULT_COLLECTOR_FAMILY,
): CollectorKind | undefined {
  return collectorFamily(family).find((k) => k.receives.includes(payloadKind));
}
