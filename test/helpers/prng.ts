/** mulberry32: a tiny seeded PRNG so fuzz and sampling tests are reproducible (the generator's own). */
export { prng as mulberry32 } from '../../src/traffic/flow-pool.ts';
