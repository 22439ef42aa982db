/** Pure packet transforms: the same functions build traffic and predict (or undo) every hop. */
export * from './esp-sa.ts';
export * from './esp-wire.ts';
export * from './fragment.ts';
export {
  checksumAdjust16,
  checksumAdjust32,
  fixIpv4Checksum,
  formatIpv4,
  IPV4,
  ipv4HeaderBytes,
  parseIpv4,
} from './ipv4-fields.ts';
export * from './nat44.ts';
export * from './vxlan-decap.ts';
