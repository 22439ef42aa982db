/** Maps errors to a message and an exit code. Known, typed errors are bad input (2); anything else is 1. */

import { ProfileError } from '../chain/profile.ts';
import { DecodeError } from '../codec/errors.ts';
import { ChainprobeError } from '../errors.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function formatError(e: unknown): { message: string; exitCode: number } {
  if (e instanceof UsageError || e instanceof ProfileError || e instanceof DecodeError)
    return { message: e.message, exitCode: 2 };
  if (e instanceof ChainprobeError)
    return { message: `${e.code}: ${e.message}`, exitCode: e.badInput ? 2 : 1 };
  if (
    e instanceof Error &&
    'code' in e &&
    typeof (e as { code: unknown }).code === 'string' &&
    (e as { code: string }).code.startsWith('E_')
  ) {
    return { message: `${(e as { code: string }).code}: ${e.message}`, exitCode: 1 };
  }
  return { message: e instanceof Error ? (e.stack ?? e.message) : String(e), exitCode: 1 };
}
