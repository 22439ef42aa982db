/**
 * POSIX shell quoting for commands that must travel as one string (SSH exec requests, `sh -c`).
 * Every argv element becomes one single-quoted word, so nothing in it is expanded by the remote shell.
 */
import { ChainprobeError } from '../errors.ts';

/** Quote one argument: 'it'\''s' — a single quote closes, an escaped quote, then reopens. */
export function shellQuote(arg: string): string {
  // NUL cannot be carried in an exec argument at all; refuse rather than silently truncate.
  if (arg.includes('\0'))
    throw new ChainprobeError('E_TRANSPORT', 'a command argument contains a NUL byte', true);
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg; // readable when nothing needs quoting
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Join an argument array into a shell command line that round-trips to the same argv. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new ChainprobeError('E_TRANSPORT', 'empty command', true);
  return argv.map(shellQuote).join(' ');
}
