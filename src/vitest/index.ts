/** `chainprobe/vitest`: matchers (registered on import) and the chain fixtures for suites. */

export { funnel } from '../report/funnel.ts';
export {
  type ChainFixtures,
  type ChainHandle,
  chainTest,
  expect,
  type ProbeRequest,
  REPORT_ROOT,
} from './fixtures.ts';
export { chainMatchers, parseDurationNs } from './matchers.ts';
