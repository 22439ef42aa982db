/**
 * chainprobe as a library. The CLI (`chainprobe …`) and the vitest entry (`chainprobe/vitest`) are thin
 * layers over these.
 */

export { type AnalyzeOptions, analyzeCaptures } from './analyze/analyze.ts';
export {
  type CaptureBackend,
  registerCaptureBackend,
  startCapture,
  startCaptureSession,
  startCaptures,
} from './capture/index.ts';
export { ChainOracle, type RuntimeSaKey } from './chain/oracle.ts';
export { loadProfile, type Profile, ProfileError, parseProfile } from './chain/profile.ts';
export { DecodeError } from './codec/errors.ts';
export { Dissection, describe as describeLayers, dissect } from './codec/stack.ts';
export { createIpv4UdpTemplate, createVxlanTemplate } from './codec/template.ts';
export {
  acquireChainLock,
  type ChainDriver,
  type CounterDelta,
  type CounterSnapshot,
  counterDelta,
  defaultProfile,
  driverFor,
  type Fault,
  registerDriver,
} from './drivers/index.ts';
export { ChainprobeError } from './errors.ts';
export { L2Injector, RawInjector, TcpreplayInjector } from './inject/index.ts';
export {
  PcapFormatError,
  PcapngWriter,
  type PcapPacket,
  PcapWriter,
  readPackets,
  readPacketsSync,
} from './pcap/index.ts';
export { funnel } from './report/funnel.ts';
export { renderHtml } from './report/html.ts';
export { renderJunit } from './report/junit.ts';
export type { RunResults } from './report/results.ts';
export { writeArtifacts } from './report/write.ts';
export { type RunOptions, type RunOutcome, runChain } from './run/run.ts';
export { EspSa } from './transform/esp-sa.ts';
export { fragment, Reassembler, reassemble } from './transform/fragment.ts';
export { openTransport } from './transport/index.ts';
