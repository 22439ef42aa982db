/**
 * Capture points: a CaptureBackend per point (backend.ts; tcpdump -U -w - through any transport today),
 * one pcap file + counters + clock note per point.
 */
export type {
  CaptureBackend,
  CaptureCounters,
  CapturePointRequest,
  CapturePointResult,
  CaptureSession,
  ClockNote,
} from './backend.ts';
export { captureBackendNames, registerCaptureBackend, startCaptureSession } from './backend.ts';

export type { CaptureOptions, StopOptions } from './capture.ts';
export { Capture, startCapture, startCaptures } from './capture.ts';
export { fetchFile } from './fetch.ts';
export { checkFilter, filterForStage, layerAtStage } from './filter.ts';
export { captureOptionsForPoint, captureRequestForPoint, type PointPlace } from './point.ts';
export type { CaptureStats, Direction, TcpdumpOptions } from './tcpdump.ts';
export { parseTcpdumpStats, tcpdumpArgv } from './tcpdump.ts';
