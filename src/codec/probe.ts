/**
 * The probe: what chainprobe puts at the start of the innermost UDP payload so every packet can be
 * recognised at every capture point (after VXLAN decap, NAT, ESP, fragmentation and reassembly — none of
 * them touch UDP payload bytes).
 *
 * Byte layout (big-endian), PROBE_HEADER_BYTES = 32:
 *
 *   off len field
 *    0   4  magic 0x43505242 ("CPRB")
 *    4   1  version = 1
 *    5   1  headerBytes = 32 (lets a later version grow the header)
 *    6   2  payloadBytes: the whole UDP payload (header + padding), 32..65507 — a cut payload is detected
 *    8   4  runId
 *   12   4  flowId
 *   16   4  seq
 *   20   8  txTimeNs: when the packet was crafted (the analyser's latency uses capture timestamps)
 *   28   4  headerCrc: CRC-32 (IEEE 802.3, zlib.crc32) over bytes 0..27 — a mangled probe is rejected, not misread
 *   32   …  padding up to payloadBytes
 *
 * Padding is deterministic in (runId, seq), so `verifyPayload` can find corrupted or spliced payloads
 * (e.g. a reassembly mixing fragments of two packets):
 *   - byte p (payload offset, p ≥ 32) is byte p of the run's pattern: big-endian words of a xorshift32
 *     stream seeded from runId (word j = state after j+1 steps);
 *   - then seq (u32 BE) is stamped at every p ≡ 32 (mod 64) with p + 4 ≤ payloadBytes, so any 64-byte
 *     window (any IPv4 fragment of ≥ 64 payload bytes) names its packet.
 * Why not a pattern that depends on seq everywhere: the template (template.ts) would then rewrite the
 * whole payload per packet. With stamps it writes one word per 64 bytes, and the UDP checksum change
 * is count × (seq words), O(1).
 */
import {
  checkUint,
  needBytes,
  readU16,
  readU32,
  readU64,
  targetBuffer,
  writeU16,
  writeU32,
  writeU64,
} from './bytes.ts';
import type { Codec } from './codec.ts';
import { DecodeError, EncodeError } from './errors.ts';

export const PROBE_MAGIC = 0x43505242;
export const PROBE_VERSION = 1;
export const PROBE_HEADER_BYTES = 32;
export const PROBE_MAX_PAYLOAD_BYTES = 65507;
/** Field offsets inside the probe (for templates and zero-copy readers). */
export const PROBE_OFFSET = {
  payloadBytes: 6,
  runId: 8,
  flowId: 12,
  seq: 16,
  txTimeNs: 20,
  headerCrc: 28,
} as const;
export const PROBE_STAMP_FIRST = 32;
export const PROBE_STAMP_EVERY_BYTES = 64;

export interface Probe {
  runId: number;
  flowId: number;
  seq: number;
  txTimeNs: bigint;
  /** the whole UDP payload: header + padding */
  payloadBytes: number;
}

const LAYER = 'probe';

// ---- CRC-32 (IEEE, reflected 0xEDB88320), the zlib/Ethernet one so python's zlib.crc32 can check it.
const CRC_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c >>> 0;
}
export function crc32(buf: Uint8Array, offset: number, length: number): number {
  let c = 0xffffffff;
  for (let i = offset, end = offset + length; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- padding pattern
const PATTERN_BYTES = PROBE_MAX_PAYLOAD_BYTES + 1; // a multiple of 4
let cachedRunId = -1;
let cachedPattern = new Uint8Array(0);

/** The run's base pattern (65508 bytes, shared and cached — do not modify). Byte p is padding byte p before stamping. */
export function probePattern(runId: number): Uint8Array {
  if (runId === cachedRunId) return cachedPattern;
  const p = new Uint8Array(PATTERN_BYTES);
  let x = (runId ^ 0x5eed1e55) >>> 0 || 0x9e3779b9;
  for (let i = 0; i < PATTERN_BYTES; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    writeU32(p, i, x);
  }
  cachedRunId = runId;
  cachedPattern = p;
  return p;
}

/** How many seq stamps a payload of this size carries. */
export function probeStampCount(payloadBytes: number): number {
  return payloadBytes < PROBE_STAMP_FIRST + 4
    ? 0
    : Math.floor((payloadBytes - PROBE_STAMP_FIRST - 4) / PROBE_STAMP_EVERY_BYTES) + 1;
}

/** Writes seq at every stamp position of the payload starting at `offset`. */
export function stampProbeSeq(buf: Uint8Array, offset: number, payloadBytes: number, seq: number): void {
  for (
    let p = offset + PROBE_STAMP_FIRST, end = offset + payloadBytes - 4;
    p <= end;
    p += PROBE_STAMP_EVERY_BYTES
  ) {
    buf[p] = seq >>> 24;
    buf[p + 1] = seq >>> 16;
    buf[p + 2] = seq >>> 8;
    buf[p + 3] = seq;
  }
}

/** Writes the probe header fields and its CRC (not the padding). */
export function writeProbeHeader(buf: Uint8Array, offset: number, v: Probe): void {
  writeU32(buf, offset, PROBE_MAGIC);
  buf[offset + 4] = PROBE_VERSION;
  buf[offset + 5] = PROBE_HEADER_BYTES;
  writeU16(buf, offset + 6, v.payloadBytes);
  writeU32(buf, offset + 8, v.runId);
  writeU32(buf, offset + 12, v.flowId);
  writeU32(buf, offset + 16, v.seq);
  writeU64(buf, offset + 20, v.txTimeNs);
  writeU32(buf, offset + 28, crc32(buf, offset, 28));
}

export type ProbeStatus = 'ok' | 'not-a-probe' | 'truncated' | 'bad-version' | 'bad-crc' | 'bad-length';

/**
 * Classifies the `available` bytes at `offset` without allocating: 'not-a-probe' when the magic is absent,
 * otherwise whether the header can be trusted. 'bad-length' when payloadBytes ≠ available (pass the UDP
 * payload length; skip the check with available = -1).
 */
export function probeStatus(buf: Uint8Array, offset: number, available: number): ProbeStatus {
  const have = available < 0 ? buf.length - offset : available;
  if (have < 4 || offset + 4 > buf.length || readU32(buf, offset) !== PROBE_MAGIC) return 'not-a-probe';
  if (have < PROBE_HEADER_BYTES || offset + PROBE_HEADER_BYTES > buf.length) return 'truncated';
  if (buf[offset + 4] !== PROBE_VERSION || buf[offset + 5] !== PROBE_HEADER_BYTES) return 'bad-version';
  if (crc32(buf, offset, 28) !== readU32(buf, offset + 28)) return 'bad-crc';
  if (available >= 0 && readU16(buf, offset + 6) !== available) return 'bad-length';
  return 'ok';
}

function checkProbe(v: Probe): void {
  checkUint(LAYER, 'runId', v.runId, 0xffffffff);
  checkUint(LAYER, 'flowId', v.flowId, 0xffffffff);
  checkUint(LAYER, 'seq', v.seq, 0xffffffff);
  if (v.txTimeNs < 0n || v.txTimeNs > 0xffffffffffffffffn)
    throw new EncodeError(LAYER, 'txTimeNs', `${v.txTimeNs} is not a u64`);
  if (
    !Number.isInteger(v.payloadBytes) ||
    v.payloadBytes < PROBE_HEADER_BYTES ||
    v.payloadBytes > PROBE_MAX_PAYLOAD_BYTES
  ) {
    throw new EncodeError(
      LAYER,
      'payloadBytes',
      `${v.payloadBytes} is not in ${PROBE_HEADER_BYTES}..${PROBE_MAX_PAYLOAD_BYTES}`,
    );
  }
}

/** The probe as a whole UDP payload: header + deterministic padding, `payloadBytes` long. */
export const probe: Codec<Probe> = {
  name: LAYER,
  encodingLength: (v) => v.payloadBytes,
  encode(v, buf, offset = 0) {
    checkProbe(v);
    const b = targetBuffer(buf, offset, v.payloadBytes, LAYER);
    b.set(probePattern(v.runId).subarray(PROBE_HEADER_BYTES, v.payloadBytes), offset + PROBE_HEADER_BYTES);
    stampProbeSeq(b, offset, v.payloadBytes, v.seq);
    writeProbeHeader(b, offset, v);
    return v.payloadBytes;
  },
  /** Validates the header (magic, version, CRC) and that payloadBytes are present; padding: see verifyPayload. */
  decode(buf, offset = 0) {
    const status = probeStatus(buf, offset, -1);
    if (status === 'not-a-probe') throw new DecodeError(LAYER, offset, 'no probe magic "CPRB"');
    if (status !== 'ok')
      throw new DecodeError(LAYER, offset, status === 'truncated' ? 'truncated header' : status);
    const payloadBytes = readU16(buf, offset + 6);
    needBytes(buf, offset, payloadBytes, LAYER, `payload (${payloadBytes} bytes)`);
    return { value: readProbe(buf, offset), bytesRead: payloadBytes };
  },
};

/** Reads the header fields; no validation (use probeStatus first). */
export function readProbe(buf: Uint8Array, offset: number): Probe {
  return {
    runId: readU32(buf, offset + 8),
    flowId: readU32(buf, offset + 12),
    seq: readU32(buf, offset + 16),
    txTimeNs: readU64(buf, offset + 20),
    payloadBytes: readU16(buf, offset + 6),
  };
}

export interface PayloadCheck {
  ok: boolean;
  /** why not, e.g. "padding differs at payload byte 1400" */
  reason?: string;
  /** payload offset of the first bad byte */
  badOffset?: number;
}

/**
 * Checks a whole probe payload (`length` = UDP payload length): header valid, length as announced, and
 * every padding byte equal to the (runId, seq) pattern.
 */
export function verifyPayload(buf: Uint8Array, offset: number, length: number): PayloadCheck {
  const status = probeStatus(buf, offset, length);
  if (status !== 'ok') return { ok: false, reason: `probe header: ${status}`, badOffset: 0 };
  if (offset + length > buf.length)
    return {
      ok: false,
      reason: `payload cut: ${buf.length - offset} of ${length} bytes`,
      badOffset: buf.length - offset,
    };
  const seq = readU32(buf, offset + 16);
  const pattern = probePattern(readU32(buf, offset + 8));
  const s0 = seq >>> 24;
  const s1 = (seq >>> 16) & 255;
  const s2 = (seq >>> 8) & 255;
  const s3 = seq & 255;
  for (let p = PROBE_HEADER_BYTES; p < length; p++) {
    let want = pattern[p];
    const inBlock = (p - PROBE_STAMP_FIRST) & (PROBE_STAMP_EVERY_BYTES - 1);
    if (inBlock < 4 && p - inBlock + 4 <= length)
      want = inBlock === 0 ? s0 : inBlock === 1 ? s1 : inBlock === 2 ? s2 : s3;
    if (buf[offset + p] !== want) {
      return {
        ok: false,
        reason: `padding differs at payload byte ${p}: 0x${buf[offset + p].toString(16)} instead of 0x${want.toString(16)}`,
        badOffset: p,
      };
    }
  }
  return { ok: true };
}
