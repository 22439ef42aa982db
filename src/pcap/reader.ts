import { createReadStream } from 'node:fs';
import { ChainprobeError } from '../errors.ts';
import { PcapDecoder } from './decoder.ts';
import type { PcapInterface, PcapPacket } from './packet.ts';

export interface ReadOptions {
  /** Called for each interface (the implicit one of classic pcap, or each pcapng IDB) before its packets. */
  onInterface?: (i: PcapInterface) => void;
}

/**
 * Reads a whole capture already in memory. Packets' `data` are views into `buf` (no copy).
 * A malformed or truncated file throws PcapFormatError after every complete packet before the bad record
 * has been yielded.
 */
export function* readPacketsSync(buf: Uint8Array, opts: ReadOptions = {}): Generator<PcapPacket> {
  const decoder = new PcapDecoder(opts.onInterface);
  const end = buf.length;
  let offset = 0;
  for (;;) {
    const n = decoder.decode(buf, offset, end);
    if (n === 0) break;
    offset += n;
    if (decoder.packet !== null) yield decoder.packet;
  }
  decoder.finish(end - offset);
}

const fileChunkBytes = 256 * 1024;

/**
 * Streams packets from a file path, a Node Readable (e.g. `tcpdump -U -w -` stdout) or any
 * AsyncIterable<Uint8Array>, in chunks of any size, with bounded memory: records are decoded straight out
 * of each chunk; only a record straddling two chunks is assembled in a buffer of at most one record
 * (maxBufferedBlockBytes). Unknown pcapng blocks are skipped without buffering.
 *
 * Packets before a malformed or truncated record are yielded, then PcapFormatError is thrown (with the
 * absolute byte offset). Breaking out of the loop early destroys a Node stream source.
 *
 * Lifetime of `data`: valid at least until the next packet is pulled (in practice it is a view into the
 * source's chunk or a private buffer that is never reused, so it stays valid while referenced).
 */
export async function* readPackets(
  source: string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  opts: ReadOptions = {},
): AsyncGenerator<PcapPacket> {
  const decoder = new PcapDecoder(opts.onInterface);
  // Assembly buffer for a record split across chunks. Once a packet view into it has been handed out, it is
  // replaced rather than overwritten, so views stay intact.
  let assembly = new Uint8Array(4096);
  let assembled = 0;
  let lent = false;

  const ensureCapacity = (n: number) => {
    if (assembly.length >= n && !lent) return;
    const next = new Uint8Array(Math.max(n, lent ? 4096 : assembly.length * 2));
    next.set(assembly.subarray(0, assembled));
    assembly = next;
    lent = false;
  };

  for await (const chunk of chunksOf(source)) {
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      if (assembled === 0) {
        const n = decoder.decode(chunk, offset, end);
        if (n > 0) {
          offset += n;
          if (decoder.packet !== null) yield decoder.packet;
          continue;
        }
        // The rest of the chunk is the start of a record: keep it (fewer than needBytes, which is bounded).
        ensureCapacity(Math.max(decoder.needBytes, end - offset));
        assembly.set(chunk.subarray(offset, end), 0);
        assembled = end - offset;
        offset = end;
        break;
      }
      // Top the assembly up to what the decoder asked for, then decode as far as it goes.
      const take = Math.min(decoder.needBytes - assembled, end - offset);
      ensureCapacity(assembled + take);
      assembly.set(chunk.subarray(offset, offset + take), assembled);
      assembled += take;
      offset += take;
      if (assembled < decoder.needBytes) break;
      let used = 0;
      for (;;) {
        const n = decoder.decode(assembly, used, assembled);
        if (n === 0) break;
        used += n;
        if (decoder.packet !== null) {
          lent = true;
          yield decoder.packet;
        }
      }
      const rest = assembled - used;
      if (rest > 0 && used > 0) {
        if (lent) {
          const next = new Uint8Array(Math.max(4096, decoder.needBytes));
          next.set(assembly.subarray(used, assembled));
          assembly = next;
          lent = false;
        } else {
          assembly.copyWithin(0, used, assembled);
        }
      }
      assembled = rest;
    }
  }
  decoder.finish(assembled);
}

async function* chunksOf(source: string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') {
    const stream = createReadStream(source, { highWaterMark: fileChunkBytes });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== undefined && err.syscall !== undefined) {
        throw new ChainprobeError('E_PCAP_OPEN', `cannot read pcap file ${source}: ${err.message}`, true, { path: source });
      }
      throw e;
    }
    return;
  }
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    if (typeof chunk === 'string') {
      throw new ChainprobeError('E_CONFIG', 'pcap source stream yields strings: do not set an encoding on it', true);
    }
    yield chunk;
  }
}
