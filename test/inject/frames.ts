/** Hand-built test frames (Ethernet / IPv4 / UDP), independent of src/codec. */
function csum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | (i + 1 < len ? b[off + i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
const ip = (t: string) => t.split('.').map(Number);

/** IPv4/UDP packet with `payloadBytes` of payload; the first 4 payload bytes carry `seq`. */
export function ipv4Udp(src: string, dst: string, payloadBytes: number, seq = 0, dport = 9999): Uint8Array {
  const len = 20 + 8 + payloadBytes;
  const b = new Uint8Array(len);
  b[0] = 0x45;
  b[2] = len >> 8;
  b[3] = len & 255;
  b[6] = 0x40; // DF
  b[8] = 64;
  b[9] = 17;
  b.set(ip(src), 12);
  b.set(ip(dst), 16);
  const c = csum(b, 0, 20);
  b[10] = c >> 8;
  b[11] = c & 255;
  b[20] = 0x30;
  b[21] = 0x39;
  b[22] = dport >> 8;
  b[23] = dport & 255;
  b[24] = (8 + payloadBytes) >> 8;
  b[25] = (8 + payloadBytes) & 255;
  new DataView(b.buffer).setUint32(28, seq);
  return b;
}

export function ethernet(dstMac: string, srcMac: string, ipPacket: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + ipPacket.length);
  f.set(
    dstMac.split(':').map((h) => Number.parseInt(h, 16)),
    0,
  );
  f.set(
    srcMac.split(':').map((h) => Number.parseInt(h, 16)),
    6,
  );
  f[12] = 0x08;
  f[13] = 0x00;
  f.set(ipPacket, 14);
  return f;
}

/** VXLAN (UDP 4789, flags 0x08, VNI) around an inner Ethernet frame. */
export function vxlan(outerSrc: string, outerDst: string, vni: number, inner: Uint8Array): Uint8Array {
  const outer = ipv4Udp(outerSrc, outerDst, 8 + inner.length, 0, 4789);
  outer.set([0x08, 0, 0, 0, (vni >> 16) & 255, (vni >> 8) & 255, vni & 255, 0], 28);
  outer.set(inner, 36);
  return outer;
}
