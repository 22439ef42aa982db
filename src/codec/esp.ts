/**
 * ESP header (RFC 4303 §2) as a *layer*: SPI and sequence number, then opaque bytes (IV, ciphertext,
 * padding, next header, ICV — all the transform's business: src/transform/, STYLE.md A2).
 *
 *   0 SPI (4) | 4 sequence number (4) | 8 data ...
 *
 * And ESP-in-UDP (RFC 3948, UDP port 4500): the UDP payload is
 *   - 1 byte 0xff                      → NAT-keepalive (§2.3)
 *   - 4 zero bytes ("non-ESP marker")  → IKE; the message follows the marker (§2.2)
 *   - otherwise                        → an ESP packet (its SPI is never 0)
 */
import { checkUint, hex, needBytes, readU32, targetBuffer, writeU32 } from './bytes.ts';
import type { Codec } from './codec.ts';
import { DecodeError } from './errors.ts';
import { IP_PROTO_ESP } from './ipv4.ts';
import { type LayerSpec, NEXT_END } from './layer.ts';

export const ESP_HEADER_BYTES = 8;
export const NATT_UDP_PORT = 4500;

export interface EspPacket {
  spi: number;
  seq: number;
  /** everything after the sequence number; on decode a view into the decoded buffer (no copy) */
  data: Uint8Array;
}

const ESP = 'esp';

export const esp: Codec<EspPacket> = {
  name: ESP,
  encodingLength: (v) => ESP_HEADER_BYTES + v.data.length,
  encode(v, buf, offset = 0) {
    const n = ESP_HEADER_BYTES + v.data.length;
    const b = targetBuffer(buf, offset, n, ESP);
    checkUint(ESP, 'spi', v.spi, 0xffffffff);
    checkUint(ESP, 'seq', v.seq, 0xffffffff);
    writeU32(b, offset, v.spi);
    writeU32(b, offset + 4, v.seq);
    b.set(v.data, offset + 8);
    return n;
  },
  /** Decodes to the end of `buf`: pass a subarray bounded by the IP/UDP length. */
  decode(buf, offset = 0) {
    needBytes(buf, offset, ESP_HEADER_BYTES, ESP);
    const spi = readU32(buf, offset);
    // RFC 4303 §2.1: SPI 0 is reserved and never sent; in UDP it would be the IKE marker.
    if (spi === 0) throw new DecodeError(ESP, offset, 'SPI 0 is reserved');
    return {
      value: { spi, seq: readU32(buf, offset + 4), data: buf.subarray(offset + 8) },
      bytesRead: buf.length - offset,
    };
  },
};

export type NattPayload =
  | { kind: 'esp'; esp: EspPacket }
  /** the IKE message after the 4-byte non-ESP marker */
  | { kind: 'ike'; message: Uint8Array }
  | { kind: 'keepalive' };

const NATT = 'esp-in-udp';

/** What a UDP-4500 payload of `length` bytes at `offset` is, without decoding it. */
export function classifyNatt(buf: Uint8Array, offset: number, length: number): 'esp' | 'ike' | 'keepalive' {
  if (length === 1 && buf[offset] === 0xff) return 'keepalive';
  needBytes(buf, offset, Math.min(length, 4), NATT, 'payload');
  if (length < 4)
    throw new DecodeError(NATT, offset, `${length}-byte payload is neither a keepalive, IKE nor ESP`);
  if (buf[offset] === 0 && buf[offset + 1] === 0 && buf[offset + 2] === 0 && buf[offset + 3] === 0)
    return 'ike';
  return 'esp';
}

/** The UDP payload on port 4500 (RFC 3948). Decodes to the end of `buf`. */
export const natt: Codec<NattPayload> = {
  name: NATT,
  encodingLength: (v) =>
    v.kind === 'keepalive'
      ? 1
      : v.kind === 'ike'
        ? 4 + v.message.length
        : ESP_HEADER_BYTES + v.esp.data.length,
  encode(v, buf, offset = 0) {
    if (v.kind === 'keepalive') {
      targetBuffer(buf, offset, 1, NATT)[offset] = 0xff;
      return 1;
    }
    if (v.kind === 'ike') {
      const b = targetBuffer(buf, offset, 4 + v.message.length, NATT);
      writeU32(b, offset, 0);
      b.set(v.message, offset + 4);
      return 4 + v.message.length;
    }
    return esp.encode(v.esp, buf, offset);
  },
  decode(buf, offset = 0) {
    const length = buf.length - offset;
    const kind = classifyNatt(buf, offset, length);
    if (kind === 'keepalive') return { value: { kind }, bytesRead: 1 };
    if (kind === 'ike') return { value: { kind, message: buf.subarray(offset + 4) }, bytesRead: length };
    const d = esp.decode(buf, offset);
    return { value: { kind, esp: d.value }, bytesRead: d.bytesRead };
  },
};

/** ESP: the header, then opaque ciphertext to the end of the datagram (the walk stops: stop = 'esp'). */
export const espLayer: LayerSpec = {
  name: 'esp',
  fields: { spi: { offset: 0, bytes: 4 }, seq: { offset: 4, bytes: 4 } },
  bindings: [{ table: 'ipProtocol', value: IP_PROTO_ESP }],
  dissect(d) {
    const off = d.cursor;
    d.take(ESP_HEADER_BYTES, 'esp');
    if (readU32(d.frame, off) === 0) throw new DecodeError('esp', off, 'SPI 0 is reserved');
    d.push(d.ids.esp, off, d.end - off);
    d.espOffset = off;
    d.stop = 'esp';
    return NEXT_END;
  },
  describe(d, i) {
    const o = d.offset[i];
    return `ESP spi ${hex(readU32(d.frame, o), 8)}, seq ${readU32(d.frame, o + 4)}, ${d.length[i]} bytes (opaque)`;
  },
};

/** UDP 4500 (RFC 3948): resolves to a keepalive, IKE (non-ESP marker) or ESP. Only a binding target. */
export const nattLayer: LayerSpec = {
  name: 'natt',
  bindings: [{ table: 'udpPort', value: NATT_UDP_PORT }],
  dissect(d) {
    const kind = classifyNatt(d.frame, d.cursor, d.end - d.cursor);
    if (kind === 'esp') return d.ids.esp;
    d.push(kind === 'ike' ? d.ids.ike : d.ids.keepalive, d.cursor, kind === 'ike' ? d.end - d.cursor : 1);
    return NEXT_END;
  },
  describe: () => 'ESP-in-UDP',
};

export const ikeLayer: LayerSpec = {
  name: 'ike',
  dissect: () => NEXT_END, // reached through natt only
  describe: (d, i) => `IKE (non-ESP marker), ${d.length[i] - 4} bytes`,
};

export const keepaliveLayer: LayerSpec = {
  name: 'keepalive',
  dissect: () => NEXT_END, // reached through natt only
  describe: () => 'NAT-keepalive',
};
