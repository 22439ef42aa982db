/**
 * How the CLI reports an error: a message and an exit code, never a stack trace (CHAINPROBE_DEBUG=1
 * adds the stack of an unexpected error, for a bug report). Bad input (usage, profile, malformed
 * files, typed errors marked badInput) is exit 2; anything else that failed is exit 1.
 */

import { ProfileError } from '../chain/profile.ts';
import { DecodeError } from '../codec/errors.ts';
import { ChainprobeError } from '../errors.ts';

/** A bad command line. `usage` is the command's usage text, printed after the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    public usage?: string,
  ) {
    super(message);
  }
}

export function formatError(e: unknown): { message: string; exitCode: number } {
  if (e instanceof UsageError)
    return { message: e.usage ? `${e.message}\n\n${e.usage}` : e.message, exitCode: 2 };
  if (e instanceof ProfileError || e instanceof DecodeError) return { message: e.message, exitCode: 2 };
  if (e instanceof ChainprobeError)
    return { message: `${e.code}: ${e.message}`, exitCode: e.badInput ? 2 : 1 };
  const err = e instanceof Error ? (e as NodeJS.ErrnoException) : undefined;
  if (err && typeof err.code === 'string' && err.code.startsWith('E_'))
    return { message: `${err.code}: ${err.message}`, exitCode: 1 };
  // A system call that failed (EACCES, ENOSPC, …): its message names the call and the path.
  if (err?.syscall) return { message: err.message, exitCode: 1 };
  const debug = process.env.CHAINPROBE_DEBUG === '1';
  return {
    message: `unexpected error: ${err ? `${err.name}: ${err.message}` : String(e)}${debug && err?.stack ? `\n${err.stack}` : '\n(set CHAINPROBE_DEBUG=1 for the stack trace to report it)'}`,
    exitCode: 1,
  };
}
