/**
 * Keys for SAs the profile says are negotiated at run time. The chain's driver hands them over when it can
 * (the reference chain records them, root-only, when it comes up); otherwise they must be given (--sa-key).
 */
import type { RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import { type ChainDriver, driverFor } from '../drivers/index.ts';
import { ChainprobeError } from '../errors.ts';

export function needsRuntimeKeys(profile: Profile): boolean {
  return profile.stages.some(
    (s) => s.transform?.kind === 'esp-encrypt' && typeof s.transform.sa.key !== 'string',
  );
}

/** Explicit keys win; otherwise the live chain's, through its driver, when the profile needs runtime keys. */
export async function resolveRuntimeKeys(
  profile: Profile,
  explicit: RuntimeSaKey[],
  driver: ChainDriver = driverFor(profile),
): Promise<RuntimeSaKey[]> {
  if (explicit.length || !needsRuntimeKeys(profile)) return explicit;
  if (!driver.runtimeKeys)
    throw new ChainprobeError(
      'E_NO_SA_KEY',
      `profile ${profile.name} takes its ESP keys from the live chain, and its "${driver.name}" driver cannot read them; pass --sa-key SPI=KEYSALT`,
      true,
    );
  try {
    return await driver.runtimeKeys();
  } catch (e) {
    throw new ChainprobeError(
      'E_NO_SA_KEY',
      `profile ${profile.name} takes its ESP keys from the live chain, and none could be read (${(e as Error).message}); bring the chain up with "chainprobe chain up" or pass --sa-key SPI=KEYSALT`,
      true,
    );
  }
}
