/**
 * Keys for SAs the profile says are negotiated at run time. The embedded reference chain records them
 * (root-only file) when it comes up; anything else must be given explicitly (--sa-key).
 */
import type { RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import { loadRuntimeSas } from '../drivers/refchain/index.ts';
import { ChainprobeError } from '../errors.ts';

export function needsRuntimeKeys(profile: Profile): boolean {
  return profile.stages.some(
    (s) => s.transform?.kind === 'esp-encrypt' && typeof s.transform.sa.key !== 'string',
  );
}

/** Explicit keys win; otherwise the reference chain's live SAs, when the profile needs runtime keys. */
export function resolveRuntimeKeys(profile: Profile, explicit: RuntimeSaKey[]): RuntimeSaKey[] {
  if (explicit.length || !needsRuntimeKeys(profile)) return explicit;
  try {
    return loadRuntimeSas().map((sa) => ({ spi: sa.spi, key: sa.key, salt: sa.salt }));
  } catch (e) {
    throw new ChainprobeError(
      'E_NO_SA_KEY',
      `profile ${profile.name} takes its ESP keys from the live chain, and none could be read (${(e as Error).message}); bring the chain up with "chainprobe chain up" or pass --sa-key SPI=KEYSALT`,
      true,
    );
  }
}
