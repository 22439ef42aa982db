import { ChainprobeError } from '../errors.ts';

/** Bad writer input (a value that does not fit the format, a write after close) — the caller's mistake. */
export function writeError(message: string): ChainprobeError {
  return new ChainprobeError('E_PCAP_WRITE', message, true);
}

export function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw writeError(`${name} ${value} is not an integer in 0..${max}`);
}
