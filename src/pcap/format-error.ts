import { ChainprobeError } from '../errors.ts';

/**
 * A pcap/pcapng file (or stream) is malformed or truncated. `byteOffset` is the absolute offset in the file
 * of the offending field or record, counted from the first byte of the source.
 */
export class PcapFormatError extends ChainprobeError {
  override readonly name = 'PcapFormatError';
  constructor(
    readonly byteOffset: number,
    readonly reason: string,
  ) {
    super('E_PCAP_MALFORMED', `malformed pcap: ${reason} (at byte offset ${byteOffset})`, true, {
      byteOffset,
    });
  }
}
