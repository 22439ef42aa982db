/**
 * Which probe payload sizes a chain can carry: the largest is what still fits the 65 535-byte IPv4
 * limit at every stage once the profile's encapsulations are added (outer IPv4/UDP/VXLAN/Ethernet at
 * ingress, the ESP tunnel header, IV, padding and ICV after encryption, …). It is found by building the
 * probe with the oracle — the same template and transforms a run uses — so a profile with other
 * encapsulations gets its own limit and nothing here knows header sizes.
 */
import { ChainOracle, type RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import { EncodeError } from '../codec/errors.ts';
import { PROBE_HEADER_BYTES, PROBE_MAX_PAYLOAD_BYTES } from '../codec/probe.ts';
import { intOption } from './options.ts';

/** Lengths do not depend on key values: runtime-keyed SAs get a placeholder key for this. */
function lengthOracle(profile: Profile): ChainOracle {
  const placeholders: RuntimeSaKey[] = profile.stages.flatMap((s) =>
    s.transform?.kind === 'esp-encrypt' && typeof s.transform.sa.key !== 'string'
      ? [{ spi: s.transform.sa.spi, key: new Uint8Array(16), salt: new Uint8Array(4) }]
      : [],
  );
  return new ChainOracle(profile, placeholders);
}

function carries(oracle: ChainOracle, payloadBytes: number): boolean {
  try {
    oracle.predict(oracle.template({ payloadBytes, runId: 1 }).patch(0, 0n));
    return true;
  } catch (e) {
    // an encoder's field limit (IPv4 total length) or EspSa's outer-packet limit
    if (e instanceof EncodeError || e instanceof RangeError) return false;
    throw e;
  }
}

const cache = new WeakMap<Profile, number>();

/** The largest payload (probe header included) that crosses every stage of the profile's chain. */
export function maxPayloadBytes(profile: Profile): number {
  const known = cache.get(profile);
  if (known !== undefined) return known;
  const oracle = lengthOracle(profile);
  // The smallest probe must cross: if it does not, the profile is broken, and that error is the one to show.
  oracle.predict(oracle.template({ payloadBytes: PROBE_HEADER_BYTES, runId: 1 }).patch(0, 0n));
  let lo = PROBE_HEADER_BYTES; // carried
  let hi = PROBE_MAX_PAYLOAD_BYTES + 1; // not carried (above the UDP limit)
  if (carries(oracle, PROBE_MAX_PAYLOAD_BYTES)) lo = PROBE_MAX_PAYLOAD_BYTES;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (carries(oracle, mid)) lo = mid;
    else hi = mid;
  }
  cache.set(profile, lo);
  return lo;
}

/** One `--size` value: a whole number of bytes the profile's chain can carry, or a UsageError with the range. */
export function payloadSize(option: string, raw: string, profile: Profile): number {
  const max = maxPayloadBytes(profile);
  const why = `the most this profile's encapsulations leave room for in an IPv4 datagram`;
  return intOption(option, raw, PROBE_HEADER_BYTES, max, why);
}
