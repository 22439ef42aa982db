/** src/collector — real flow collectors (nfdump: nfcapd, sfcapd; pmacct: nfacctd, sfacctd) started through a Transport and read back. */
export * from './collector.ts';
export * from './kinds.ts';
export { readNfdumpFlows } from './nfdump.ts';
