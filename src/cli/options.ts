/** Option parsing helpers shared by the CLI verbs: every bad value is a UsageError naming the option. */
import type { RuntimeSaKey } from '../chain/oracle.ts';
import { UsageError } from './errors.ts';

export function intOption(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${name} must be a whole number, not "${raw}"`);
  const v = Number(raw);
  if (v < min || v > max) throw new UsageError(`${name} must be between ${min} and ${max}, not ${v}`);
  return v;
}

export function numberOption(name: string, raw: string, min: number, max: number): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v))
    throw new UsageError(`${name} must be a number, not "${raw}"`);
  if (v < min || v > max) throw new UsageError(`${name} must be between ${min} and ${max}, not ${v}`);
  return v;
}

/** `SPI=HEX` with 40 hex digits (16-byte AES key + 4-byte salt, as charon prints it). The key is never echoed. */
export function parseSaKeys(raw: string[]): RuntimeSaKey[] {
  return raw.map((item) => {
    const m = /^(0x[0-9a-f]+|\d+)=([0-9a-f]{40})$/i.exec(item.trim());
    if (!m)
      throw new UsageError(
        '--sa-key must look like SPI=KEYSALT (SPI decimal or 0x-hex, 40 hex digits of key+salt)',
      );
    const bytes = Buffer.from(m[2], 'hex');
    return {
      spi: Number(m[1]),
      key: Uint8Array.from(bytes.subarray(0, 16)),
      salt: Uint8Array.from(bytes.subarray(16, 20)),
    };
  });
}
