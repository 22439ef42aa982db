/**
 * src/codec — one codec per protocol, the stack/dissector, the probe header and frame templates.
 *
 *   codec.ts     the Codec<T> contract: encodingLength / encode(value, buf, offset) → bytes / decode → { value, bytesRead }
 *   layer.ts     the LayerSpec contract: fields, bindings, dissect step, describe — one per protocol, listed in stack.ts
 *   address.ts   parseIpv4 / ipv4ToString / parseMac / macToString (values hold addresses as numbers)
 *   ethernet.ts  Ethernet II + one 802.1Q/802.1ad tag          ipv4.ts  THE IPv4 module: codec, field table, validators, in-place accessors
 *   udp.ts       UDP (+ fillUdpChecksum, udpChecksumOk)        vxlan.ts VXLAN (RFC 7348), no defaults
 *   esp.ts       ESP header + opaque data; ESP-in-UDP (RFC 3948: esp / ike / keepalive)
 *   sll.ts       Linux cooked SLL (113) and SLL2 (276)         checksum.ts the Internet checksum (+ RFC 1624 update)
 *   probe.ts     probe header + (runId, seq) padding, verifyPayload; probe-layer.ts its dissector layer (heuristic)
 *   flow/        NetFlow v5, v9 (RFC 3954), IPFIX (RFC 7011), sFlow v5 codecs; cflow/sflow dissector layers
 *   stack.ts     Bindings, dissect(frame, linktype, into?) → Dissection (offsets), describe / summarize
 *   template.ts  createVxlanTemplate / createIpv4UdpTemplate: build once, patch(seq, txTimeNs) per packet
 * Errors: DecodeError(layer, offset, reason) / EncodeError(layer, field, reason) from errors.ts.
 */
export * from './address.ts';
export * from './bytes.ts';
export * from './checksum.ts';
export * from './codec.ts';
export * from './errors.ts';
export * from './esp.ts';
export * from './ethernet.ts';
export * from './flow/cflow-layer.ts';
export * from './flow/ipfix.ts';
export * from './flow/netflow-v5.ts';
export * from './flow/netflow-v9.ts';
export * from './flow/sflow.ts';
export * from './flow/sflow-layer.ts';
export * from './flow/templates.ts';
export * from './ipv4.ts';
export * from './layer.ts';
export * from './probe.ts';
export * from './sll.ts';
export * from './stack.ts';
export * from './template.ts';
export * from './udp.ts';
export * from './vxlan.ts';
