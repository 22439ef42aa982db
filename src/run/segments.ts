/**
 * Analysis during the run, for soaks: the capture points write time segments (capture/segments.ts); once
 * every point has handed over a packet stamped after a segment's end (a point's packets come in time order,
 * so nothing older can follow), or a silent point's segment is IDLE behind the wall clock, the segment is
 * sealed everywhere, merged across points into the run's CaptureAnalysis, and deleted. (Sealing on the wall
 * clock alone was wrong: a capture starved of CPU hands packets over many seconds late — 750 k of 3 M in the
 * first 300 s soak — and a late sighting after its journey closed becomes a phantom datagram.)
 * After the run only the last segments are left to analyse, and the disk holds a few segments, not the run.
 * The first segment of every point is kept as a sample of the run (the report's pcapng).
 */
import { type CaptureAnalysis, capturePoint } from '../analyze/analyze.ts';
import type { SegmentedPcap, SegmentFile } from '../capture/segments.ts';
import type { PointClock } from '../clock/correct.ts';
import type { PcapPacket } from '../pcap/packet.ts';

/** A point that handed over nothing newer: its segment is sealed this long after its end (a silent point). */
const IDLE_SEAL_NS = 30_000_000_000n;

export class SegmentAnalyser {
  private next: number;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  /** segments analysed while the captures were still running */
  analysedDuringRun = 0;
  analysed = 0;
  peakDiskBytes = 0;
  /** capture time (ns) the analysis has reached: the start of the next segment */
  get analysedThroughNs(): bigint {
    return BigInt(this.next) * this.widthNs;
  }

  /** the first segment of every point, kept (point → file) */
  readonly samples = new Map<string, SegmentFile>();

  constructor(
    private readonly analysis: CaptureAnalysis,
    private readonly segments: Map<string, SegmentedPcap>,
    private readonly o: { startNs: bigint; clocks?: Record<string, PointClock> },
  ) {
    // every point cuts at the same instants (capture/segments.ts)
    this.widthNs = [...segments.values()][0].widthNs;
    this.next = Number(o.startNs / this.widthNs);
  }

  readonly widthNs: bigint;

  /** Seals and analyses segments as they age past the lag, every 500 ms, until `drain`. */
  start(): NodeJS.Timeout {
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.catchUp(this.sealableUntil(), true));
      this.busy.catch((e) => {
        this.failure ??= e;
      });
    }, 500);
    return this.timer;
  }

  /** The captures have stopped (every segment closed): analyse what is left. Throws what the loop met. */
  async drain(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy.catch(() => {});
    if (this.failure) throw this.failure;
    let last = this.next - 1;
    for (const s of this.segments.values()) for (const f of s.pending()) last = Math.max(last, f.index);
    await this.catchUp(BigInt(last + 1) * this.widthNs, false);
  }

  bytes(): { onDisk: number; written: number } {
    let onDisk = 0;
    let written = 0;
    for (const s of this.segments.values()) {
      onDisk += s.bytesOnDisk;
      written += s.bytesWritten;
    }
    return { onDisk, written };
  }

  get late(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.late;
    return n;
  }

  /** The end of the newest segment every point is done with: passed by its packets, or idle long enough. */
  private sealableUntil(): bigint {
    const idleUntil = BigInt(Date.now()) * 1_000_000n - IDLE_SEAL_NS;
    let until: bigint | null = null;
    for (const s of this.segments.values()) {
      const done = s.latestNs > idleUntil ? s.latestNs : idleUntil;
      if (until === null || done < until) until = done;
    }
    return until ?? idleUntil;
  }

  /** Analyses every segment that ends at or before `untilNs`. */
  private async catchUp(untilNs: bigint, running: boolean): Promise<void> {
    this.peakDiskBytes = Math.max(this.peakDiskBytes, this.bytes().onDisk);
    while (BigInt(this.next + 1) * this.widthNs <= untilNs) {
      const k = this.next++;
      for (const s of this.segments.values()) s.seal(k);
      const files = this.analysis.points.map((p) => this.segments.get(p.name)?.take(k) ?? null);
      if (files.every((f) => f === null)) continue;
      this.peakDiskBytes = Math.max(this.peakDiskBytes, this.bytes().onDisk);
      await this.analysis.consume(
        this.analysis.points.map((p, i) =>
          files[i] ? capturePoint(files[i].path, p.name, this.o.clocks?.[p.name]) : nothing(),
        ),
      );
      this.analysed++;
      if (running) this.analysedDuringRun++;
      this.analysis.points.forEach((p, i) => {
        const f = files[i];
        if (!f) return;
        if (!this.samples.has(p.name)) this.samples.set(p.name, f);
        else this.segments.get(p.name)!.remove(f);
      });
    }
  }
}

async function* nothing(): AsyncGenerator<PcapPacket> {}
