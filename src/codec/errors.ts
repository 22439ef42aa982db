/**
 * Every decoder failure in chainprobe is a DecodeError: which layer, at which byte offset of the buffer
 * being decoded, and why. Callers (dissector, pcap reader, analyser) catch this type only; anything else
 * escaping a decoder is a bug.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly layer: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${layer}: ${reason} (at byte offset ${offset})`);
  }
}

/** Thrown by encoders for values that cannot be put on the wire (out-of-range fields, too-small buffers). */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly layer: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${layer}.${field}: ${reason}`);
  }
}
