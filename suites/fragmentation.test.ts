/**
 * Fragmentation: 8000-byte NetFlow/IPFIX jumbo payloads are fragmented at MTU 1400 and reassembled at
 * the destination (the reference chain fragments before and after encryption: 6 ESP packets, 11 frames).
 */
import { describe } from 'vitest';
import { expect, chainTest as test } from '../src/vitest/index.ts';

describe('jumbo payloads', () => {
  test('8000-byte payloads cross in fragments ≤ 1400 bytes and are reassembled intact', async ({ probe }) => {
    const run = await probe({ count: 300, pps: 500, sizes: [8000] });
    expect(run).toFragmentWithin(1400);
    expect(run).toDeliverAtLeast(0.9);
    expect(run.fragmentation.violations).toBe(0);
    // payload padding verified byte for byte after reassembly
    expect(run.checks.find((c) => c.name === 'payload intact')?.pass).toBe(true);
  });
});
