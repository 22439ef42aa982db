/** Capture points: libpcap (tcpdump -U -w -) through any transport, streamed into the pcap reader. */

export type { CaptureOptions, StopOptions } from './capture.ts';
export { Capture, startCapture, startCaptures } from './capture.ts';
export { checkFilter, filterForStage, layerAtStage } from './filter.ts';
export { captureOptionsForPoint } from './point.ts';
export type { CaptureStats, Direction, TcpdumpOptions } from './tcpdump.ts';
export { parseTcpdumpStats, tcpdumpArgv } from './tcpdump.ts';
