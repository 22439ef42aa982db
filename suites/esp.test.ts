/** ESP: every probe leaves the security hop in AES-GCM-128 ESP with SPI 1000, decrypts, and sequence numbers rise. */
import { describe } from 'vitest';
import { expect, chainTest as test } from '../src/vitest/index.ts';

describe('IPsec ESP tunnel', () => {
  test('probes are encrypted with SPI 1000, all decrypt with the negotiated key, sequence numbers only rise', async ({
    probe,
  }) => {
    const run = await probe({ count: 500, pps: 1000, sizes: [100, 8000] });
    expect(run.esp.spis).toEqual([1000]);
    expect(run.esp.undecryptable).toBe(0);
    expect(run.esp.sequenceRegressions).toBe(0);
    expect(run.esp.violations).toBe(0);
    expect(run.hops.find((h) => h.name === 'wire')!.seen).toBeGreaterThan(0.9 * run.sent);
  });
});
