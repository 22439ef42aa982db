import { createReadStream } from 'node:fs';
import { ChainprobeError } from '../errors.ts';
import { PcapDecoder } from './decoder.ts';
import type { PcapInterface, PcapPacket } from './packet.ts';

export interface ReadOptions {
  /** Called for each interface (the implicit one of classic pcap, or each pcapng IDB) before its packets. */
  onInterface?: (i: PcapInterface) => void;
}

type Source = string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

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

/**
 * Streams packets from a file path, a Node Readable (e.g. `tcpdump -U -w -` stdout) or any
 * AsyncIterable<Uint8Array>, in chunks of any size, with bounded memory: records are decoded straight out
 * of each chunk; only a record straddling two chunks is assembled in a buffer of at most one record
 * (maxBufferedBlockBytes). Unknown pcapng blocks are skipped without buffering.
 *
 * Packets before a malformed or truncated record are yielded, then PcapFormatError is thrown (with the
 * absolute byte offset). Breaking out of the loop early (or an error) releases the source: a Node stream
 * is destroyed.
 *
 * Lifetime of `data`: the reader never writes into memory it has handed out, so a packet's view stays
 * valid as long as it is referenced (holding it keeps its source chunk alive: up to 256 KiB for a file).
 */
export function readPackets(source: Source, opts: ReadOptions = {}): AsyncGenerator<PcapPacket> {
  return new PacketStream(chunksOf(source), opts);
}

const fileChunkBytes = 256 * 1024;
const done: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * readPackets' iterator. Not an `async function*`: each chunk is decoded in one go into a queue, and next()
 * serves queued packets with an already-resolved promise, which is ~2.5x cheaper per packet than an async
 * generator's yield. Memory stays bounded: the queue holds at most one chunk's packets.
 */
class PacketStream implements AsyncGenerator<PcapPacket, undefined, undefined> {
  private readonly decoder: PcapDecoder;
  private readonly queue: PcapPacket[] = [];
  private head = 0;
  private failure: { error: unknown } | null = null;
  private ended = false;
  private inflight: Promise<IteratorResult<PcapPacket, undefined>> | null = null;
  // A record split across chunks is assembled here. Once a packet view into it has been queued it is
  // replaced rather than overwritten, so views stay intact.
  private assembly = new Uint8Array(4096);
  private assembled = 0;
  private lent = false;

  constructor(
    private readonly chunks: AsyncIterator<Uint8Array>,
    opts: ReadOptions,
  ) {
    this.decoder = new PcapDecoder(opts.onInterface);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<PcapPacket, undefined>> {
    if (this.head < this.queue.length)
      return Promise.resolve({ done: false, value: this.queue[this.head++] });
    // Serialise callers that do not await (for-await never overlaps calls).
    if (this.inflight === null) {
      this.inflight = this.refill().finally(() => {
        this.inflight = null;
      });
      return this.inflight;
    }
    return this.inflight.then(() => this.next());
  }

  async return(): Promise<IteratorResult<PcapPacket, undefined>> {
    await this.close();
    return done;
  }

  async throw(error: unknown): Promise<IteratorResult<PcapPacket, undefined>> {
    await this.close();
    throw error;
  }

  private async close(): Promise<void> {
    this.queue.length = 0;
    this.head = 0;
    if (this.ended) return;
    this.ended = true;
    await this.chunks.return?.();
  }

  private async refill(): Promise<IteratorResult<PcapPacket, undefined>> {
    for (;;) {
      if (this.head < this.queue.length) return { done: false, value: this.queue[this.head++] };
      this.queue.length = 0;
      this.head = 0;
      if (this.failure !== null) {
        const { error } = this.failure;
        this.failure = null;
        await this.close();
        throw error;
      }
      if (this.ended) return done;
      let r: IteratorResult<Uint8Array>;
      try {
        r = await this.chunks.next();
      } catch (error) {
        this.ended = true; // the source failed (unreadable file, stream error): nothing more will come
        throw error;
      }
      try {
        if (r.done) {
          this.ended = true;
          this.decoder.finish(this.assembled);
        } else {
          this.consume(r.value);
        }
      } catch (error) {
        // Packets already queued from this chunk are served first; the error comes after them.
        this.failure = { error };
      }
    }
  }

  /** Decodes every complete record of `chunk` into the queue, keeping a trailing partial record. */
  private consume(chunk: Uint8Array): void {
    const decoder = this.decoder;
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      if (this.assembled === 0) {
        const n = decoder.decode(chunk, offset, end);
        if (n > 0) {
          offset += n;
          if (decoder.packet !== null) this.queue.push(decoder.packet);
          continue;
        }
        // The rest of the chunk starts a record: keep it (fewer than needBytes, which is bounded).
        this.ensureCapacity(Math.max(decoder.needBytes, end - offset));
        this.assembly.set(chunk.subarray(offset, end), 0);
        this.assembled = end - offset;
        return;
      }
      // Top the assembly up to what the decoder asked for, then decode as far as it goes.
      const take = Math.min(decoder.needBytes - this.assembled, end - offset);
      this.ensureCapacity(this.assembled + take);
      this.assembly.set(chunk.subarray(offset, offset + take), this.assembled);
      this.assembled += take;
      offset += take;
      if (this.assembled < decoder.needBytes) return;
      let used = 0;
      for (;;) {
        const n = decoder.decode(this.assembly, used, this.assembled);
        if (n === 0) break;
        used += n;
        if (decoder.packet !== null) {
          this.lent = true;
          this.queue.push(decoder.packet);
        }
      }
      const rest = this.assembled - used;
      if (rest > 0 && used > 0) {
        if (this.lent) {
          const next = new Uint8Array(Math.max(4096, decoder.needBytes));
          next.set(this.assembly.subarray(used, this.assembled));
          this.assembly = next;
          this.lent = false;
        } else {
          this.assembly.copyWithin(0, used, this.assembled);
        }
      }
      this.assembled = rest;
    }
  }

  private ensureCapacity(n: number): void {
    if (this.assembly.length >= n && !this.lent) return;
    const next = new Uint8Array(Math.max(n, this.lent ? 4096 : this.assembly.length * 2));
    next.set(this.assembly.subarray(0, this.assembled));
    this.assembly = next;
    this.lent = false;
  }
}

async function* chunksOf(source: Source): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') {
    const stream = createReadStream(source, { highWaterMark: fileChunkBytes });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== undefined && err.syscall !== undefined) {
        throw new ChainprobeError('E_PCAP_OPEN', `cannot read pcap file ${source}: ${err.message}`, true, {
          path: source,
        });
      }
      throw e;
    }
    return;
  }
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    if (typeof chunk === 'string') {
      throw new ChainprobeError(
        'E_CONFIG',
        'pcap source stream yields strings: do not set an encoding on it',
        true,
      );
    }
    yield chunk;
  }
}
