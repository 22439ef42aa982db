/** `chainprobe/vitest`: matchers (registered on import) and the chain fixtures for suites. */
export { chainMatchers, funnel, parseDurationNs } from './matchers.ts';
export { chainTest, expect, REPORT_ROOT, type ChainFixtures, type ChainHandle, type ProbeRequest } from './fixtures.ts';
