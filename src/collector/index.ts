/** src/collector — real flow collectors (nfcapd, sfcapd) started through a Transport and read back. */
export * from './collector.ts';
export * from './kinds.ts';
