/**
 * A capture point's packets cut into pcap files by capture time: segment k holds the packets stamped in
 * [k·width, (k+1)·width). Every point of a run cuts at the same instants, so merging segment k of every point
 * and then segment k+1 is the same as merging the whole files: a long run (a soak) is analysed segment by
 * segment while it is still going, and each segment is deleted once analysed — disk and memory stay bounded
 * by the segment width, not by the run's length.
 *
 *   const s = new SegmentedPcap({ dir, point: 'wire', widthNs: 10_000_000_000n });
 *   s.write(packet) …          (the capture's pump, in arrival order)
 *   s.seal(k)                  (nothing more for segment k: close it if it is still open)
 *   s.take(k) → file or null   (a closed segment, handed to the analysis)
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PcapPacket } from '../pcap/packet.ts';
import { PcapWriter } from '../pcap/pcap-writer.ts';

export interface SegmentFile {
  index: number;
  path: string;
  packets: number;
  bytes: number;
}

export class SegmentedPcap {
  private writer: PcapWriter | null = null;
  private current = -1;
  private currentPackets = 0;
  /** the open segment's time range [start, end) (empty before the first one opens) */
  private currentStartNs = 0n;
  private currentEndNs = 0n;
  /** closed segments not yet taken */
  private readonly closed = new Map<number, SegmentFile>();
  /** every segment is sealed up to here (packets of older segments that arrive later are "late") */
  private sealedThrough = -1;
  /** packets stamped before a segment that was already sealed: written into the open segment */
  late = 0;
  packets = 0;
  /** bytes of every segment written, and of those on disk now (closed and not deleted + the open one) */
  bytesWritten = 0;
  bytesOnDisk = 0;
  /** the newest timestamp seen (ns), 0n before the first packet */
  latestNs = 0n;

  constructor(private readonly o: { dir: string; point: string; widthNs: bigint; snaplen?: number }) {}

  get widthNs(): bigint {
    return this.o.widthNs;
  }

  path(index: number): string {
    return join(this.o.dir, `${this.o.point}.${String(index).padStart(5, '0')}.pcap`);
  }

  write(p: PcapPacket): void {
    // nearly every packet falls in the open segment: two comparisons instead of a BigInt division
    const t = p.timestampNs;
    const k = t >= this.currentStartNs && t < this.currentEndNs ? this.current : Number(t / this.o.widthNs);
    if (k > this.current && k > this.sealedThrough) this.open(k, p.linktype);
    else if (k < this.current || k <= this.sealedThrough) {
      this.late++;
      if (!this.writer) this.open(this.sealedThrough + 1, p.linktype);
    }
    this.writer!.write(p.data, p.timestampNs, p.originalLength);
    this.currentPackets++;
    this.packets++;
    const recordBytes = 16 + p.data.length;
    this.bytesWritten += recordBytes;
    this.bytesOnDisk += recordBytes;
    if (p.timestampNs > this.latestNs) this.latestNs = p.timestampNs;
  }

  /** No more packets belong to segments ≤ k: close the open one if it is among them. */
  seal(k: number): void {
    if (k > this.sealedThrough) this.sealedThrough = k;
    if (this.writer && this.current <= k) this.closeCurrent();
  }

  /** The closed file of segment k (null: this point had no packet in it); the caller deletes it. */
  take(k: number): SegmentFile | null {
    const f = this.closed.get(k) ?? null;
    this.closed.delete(k);
    return f;
  }

  /** Deletes a taken segment's file (bytes on disk go down). */
  remove(f: SegmentFile): void {
    rmSync(f.path, { force: true });
    this.bytesOnDisk -= f.bytes;
  }

  /** Closes the open segment (end of the capture). */
  close(): void {
    if (this.writer) this.closeCurrent();
  }

  /** Segments closed and not taken, oldest first. */
  pending(): SegmentFile[] {
    return [...this.closed.values()].sort((a, b) => a.index - b.index);
  }

  private open(k: number, linktype: number): void {
    if (this.writer) this.closeCurrent();
    this.current = k;
    this.currentStartNs = BigInt(k) * this.o.widthNs;
    this.currentEndNs = this.currentStartNs + this.o.widthNs;
    this.currentPackets = 0;
    this.writer = PcapWriter.toFile(this.path(k), {
      linktype,
      ...(this.o.snaplen ? { snaplen: this.o.snaplen } : {}),
    });
    this.bytesWritten += 24;
    this.bytesOnDisk += 24;
  }

  private closeCurrent(): void {
    const w = this.writer!;
    this.writer = null;
    // FileSink writes synchronously: close() has flushed and closed the file when it returns
    void w.close();
    const path = this.path(this.current);
    this.closed.set(this.current, {
      index: this.current,
      path,
      packets: this.currentPackets,
      bytes: statSync(path).size,
    });
  }
}
