/**
 * src/codec — one codec per protocol, the stack/dissector, the probe header and frame templates.
 *
 *   codec.ts     the Codec<T> contract: encodingLength / encode(value, buf, offset) → bytes / decode → { value, bytesRead }
 *   address.ts   parseIpv4 / ipv4ToString / parseMac / macToString (values hold addresses as numbers)
 *   ethernet.ts  Ethernet II + one 802.1Q/802.1ad tag          ipv4.ts  IPv4 (+ fillIpv4Checksum, ipv4ChecksumOk)
 *   udp.ts       UDP (+ fillUdpChecksum, udpChecksumOk)        vxlan.ts VXLAN (RFC 7348), no defaults
 *   esp.ts       ESP header + opaque data; ESP-in-UDP (RFC 3948: esp / ike / keepalive)
 *   sll.ts       Linux cooked SLL (113) and SLL2 (276)         checksum.ts the Internet checksum (+ RFC 1624 update)
 *   probe.ts     probe header + (runId, seq) padding, verifyPayload
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
export * from './ipv4.ts';
export * from './probe.ts';
export * from './sll.ts';
export * from './stack.ts';
export * from './template.ts';
export * from './udp.ts';
export * from './vxlan.ts';
