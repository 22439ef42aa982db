import { defineConfig } from 'vitest/config';

// Two kinds of tests share one command (`npm test`):
//  - test/   the harness's own tests (codecs, pcap, analysis; some need root + system tools)
//  - suites/ the acceptance suites users run against a live chain (here: the embedded reference chain)
// Network namespaces and the reference chain are global resources, so files run one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'suites/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', ['junit', { outputFile: 'reports/junit.xml' }]] : ['default'],
  },
});
