/** Pure packet transforms: the same functions build traffic and predict (or undo) every hop. */
export * from './esp-sa.ts';
export * from './esp-wire.ts';
export * from './fragment.ts';
export * from './nat44.ts';
export * from './vxlan-decap.ts';
