/**
 * A capture point: tcpdump on one interface, run through the hop's transport, its pcap stdout decoded as it
 * arrives (nothing holds the whole capture). The same code captures in a namespace, a container or on an SSH
 * host, and tcpdump's kernel ring absorbs bursts that in-process libpcap bindings crash on.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { ChainprobeError } from '../errors.ts';
import type { PcapPacket } from '../pcap/index.ts';
import { readPackets } from '../pcap/index.ts';
import type { ExitStatus, RemoteProcess, Transport } from '../transport/transport.ts';
import type { SegmentedPcap } from './segments.ts';
import {
  type CaptureStats,
  type Direction,
  LISTENING,
  parseTcpdumpStats,
  tcpdumpArgv,
  tcpdumpStartError,
} from './tcpdump.ts';

export interface CaptureOptions {
  /** Capture point name, used in every message. */
  name: string;
  transport: Transport;
  interface: string;
  filter?: string;
  snaplenBytes?: number;
  bufferKiB?: number;
  direction?: Direction;
  /** Called for every packet, in order. Without it, iterate `capture.packets` (or set `discardPackets`). */
  onPacket?: (p: PcapPacket) => void;
  /** Nobody reads packets (tee and counters only): drain them so tcpdump never blocks on a full pipe. */
  discardPackets?: boolean;
  /** Also write the raw pcap bytes to this file, as they arrive. */
  teePath?: string;
  /** Instead: write the packets into time segments (a soak analyses and deletes them during the run). */
  segments?: SegmentedPcap;
  /** How long tcpdump may take to say "listening on" → E_CAPTURE_FAILED. */
  startTimeoutMs?: number;
}

export interface StopOptions {
  /**
   * Minimum wait before SIGINT. tcpdump's kernel ring (TPACKET_V3) hands over a block only when it is full
   * or its ~1 s timeout expires, and SIGINT discards an unretired block (REFCHAIN G9): wait longer than that.
   */
  settleMs?: number;
  /** Then wait until no bytes arrived for this long… */
  quietMs?: number;
  /** …but no longer than this in total. */
  maxWaitMs?: number;
}

const MIN_SETTLE_MS = 1100;

export class Capture {
  /** Packets decoded so far. */
  packetCount = 0;
  private lastDataAt = Date.now();
  private stopping = false;
  private failure?: ChainprobeError;
  private consumed = false;
  private pump?: Promise<void>;
  private stderrText = '';
  private readonly meter: Transform;
  private readonly tee?: WriteStream;
  private readonly exitStatus: Promise<ExitStatus | ChainprobeError>;
  readonly description: string;

  constructor(
    private readonly opts: CaptureOptions,
    private readonly proc: RemoteProcess,
  ) {
    this.description = `capture point "${opts.name}" (${opts.interface} at ${opts.transport.description})`;
    proc.stderr.on('data', (c: Buffer | string) => {
      this.stderrText = (this.stderrText + c.toString()).slice(-16_384);
    });
    if (opts.teePath) this.tee = createWriteStream(opts.teePath);
    const tee = this.tee;
    // Between tcpdump's stdout and the reader: notes when bytes last arrived (for the quiet period) and
    // tees them to a file; keeps backpressure so a slow reader slows the pipe rather than growing memory.
    this.meter = new Transform({
      readableHighWaterMark: 1 << 20,
      transform: (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) => {
        this.lastDataAt = Date.now();
        if (tee && !tee.write(chunk)) tee.once('drain', () => cb(null, chunk));
        else cb(null, chunk);
      },
    });
    proc.stdout.pipe(this.meter);
    this.exitStatus = proc.exited.then(
      (s) => {
        if (!this.stopping) this.failure ??= this.died(s);
        return s;
      },
      (e: unknown) => {
        const err =
          e instanceof ChainprobeError
            ? e
            : new ChainprobeError('E_CAPTURE_FAILED', `${this.description}: ${String(e)}`);
        this.failure ??= err;
        return err;
      },
    );
    if (opts.onPacket) {
      const cb = opts.onPacket;
      this.pump = (async () => {
        for await (const p of this.iterate()) cb(p);
      })();
      this.pump.catch(() => {});
    } else if (opts.segments) {
      const segments = opts.segments;
      this.pump = (async () => {
        for await (const p of this.iterate()) segments.write(p);
      })();
      this.pump.catch(() => {});
    } else if (opts.discardPackets) {
      this.pump = (async () => {
        for await (const _ of this.iterate());
      })();
      this.pump.catch(() => {});
    }
  }

  private died(s: ExitStatus): ChainprobeError {
    const how = s.signal ? `was killed by ${s.signal}` : `exited with code ${s.exitCode}`;
    return new ChainprobeError(
      'E_CAPTURE_FAILED',
      `tcpdump at ${this.description} ${how} during the run: ${this.stderrText.trim().split('\n').slice(-3).join(' | ')}`,
      false,
      {
        point: this.opts.name,
        ...s,
      },
    );
  }

  /** The packets, as they are captured. Single consumer; ends after stop(); throws if tcpdump died. */
  get packets(): AsyncIterable<PcapPacket> {
    if (this.opts.onPacket || this.opts.discardPackets)
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `${this.description} delivers packets to onPacket/discard, not to an iterator`,
        true,
      );
    return this.iterate();
  }

  private async *iterate(): AsyncGenerator<PcapPacket> {
    if (this.consumed)
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `${this.description}: packets can be read only once`,
        true,
      );
    this.consumed = true;
    try {
      for await (const p of readPackets(this.meter)) {
        this.packetCount++;
        yield p;
      }
    } catch (e) {
      await this.exitStatus;
      if (this.failure) throw this.failure;
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `${this.description}: cannot decode tcpdump's output: ${(e as Error).message}`,
      );
    }
    await this.exitStatus;
    if (this.failure) throw this.failure;
  }

  /** The first error (tcpdump died, could not be started), if any. */
  get error(): ChainprobeError | undefined {
    return this.failure;
  }

  /** Settle, SIGINT tcpdump, wait for it, return its counters. Throws E_CAPTURE_FAILED if it died meanwhile. */
  async stop(o: StopOptions = {}): Promise<CaptureStats> {
    // Below ~1.1 s tcpdump may still hold the ring's last block (it is handed over every ~1 s) and SIGINT
    // would discard it: shorter settles silently lost the last packets in tests, so they are raised.
    const settleMs = Math.max(o.settleMs ?? 1200, MIN_SETTLE_MS);
    const quietMs = o.quietMs ?? 300;
    const maxWaitMs = Math.max(o.maxWaitMs ?? 10_000, settleMs);
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    this.stopping = true;
    const t0 = Date.now();
    await sleep(settleMs);
    while (Date.now() - this.lastDataAt < quietMs && Date.now() - t0 < maxWaitMs)
      await sleep(Math.min(50, quietMs));
    if (!this.consumed) {
      // Nobody will read them now: drain so tcpdump can flush and exit.
      this.pump = (async () => {
        for await (const _ of this.iterate());
      })();
      this.pump.catch(() => {});
    }
    this.proc.signal('SIGINT');
    const exit = await withTimeout(this.exitStatus, 10_000);
    if (exit === undefined) {
      this.proc.signal('SIGKILL');
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `tcpdump at ${this.description} did not exit within 10 s of SIGINT (killed)`,
      );
    }
    if (exit instanceof ChainprobeError) throw exit;
    await withTimeout(this.pump ?? Promise.resolve(), 5000)?.catch(() => {});
    await this.closeTee();
    const stats = parseTcpdumpStats(this.stderrText);
    if (!stats)
      throw new ChainprobeError(
        'E_CAPTURE_FAILED',
        `tcpdump at ${this.description} printed no counters (${exit.signal ?? `exit ${exit.exitCode}`}): ${this.stderrText.trim().slice(-300)}`,
      );
    return stats;
  }

  /** Kill without counters (cleanup after another point failed, or test teardown). */
  async abort(): Promise<void> {
    this.stopping = true;
    this.proc.signal('SIGKILL');
    this.meter.resume();
    await withTimeout(this.exitStatus, 10_000);
    await this.closeTee();
  }

  private closeTee(): Promise<void> {
    this.opts.segments?.close();
    const tee = this.tee;
    if (!tee || tee.closed) return Promise.resolve();
    return new Promise((r) => tee.end(() => r()));
  }

  /** Resolves after tcpdump said "listening on"; rejects with a typed error otherwise. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (e?: ChainprobeError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.proc.stderr.removeListener('data', onData);
        if (e) {
          this.stopping = true;
          this.proc.signal('SIGKILL');
          this.meter.resume();
          reject(e);
        } else resolve();
      };
      const onData = () => {
        if (LISTENING.test(this.stderrText)) finish();
      };
      const timer = setTimeout(
        () =>
          finish(
            new ChainprobeError(
              'E_CAPTURE_FAILED',
              `tcpdump at ${this.description} did not confirm "listening on" within ${timeoutMs} ms: ${this.stderrText.trim().slice(-300)}`,
            ),
          ),
        timeoutMs,
      );
      this.proc.stderr.on('data', onData);
      onData();
      void this.exitStatus.then(async (s) => {
        if (done) return;
        await sleep(50); // let the last stderr bytes arrive
        if (LISTENING.test(this.stderrText)) return finish();
        if (s instanceof ChainprobeError)
          return finish(
            s.code === 'E_MISSING_TOOL'
              ? new ChainprobeError(
                  'E_MISSING_TOOL',
                  `tcpdump is not installed at ${this.description}: ${s.message}`,
                )
              : s,
          );
        finish(tcpdumpStartError(this.stderrText, this.description, this.opts.interface));
      });
    });
  }
}

export async function startCapture(opts: CaptureOptions): Promise<Capture> {
  const argv = tcpdumpArgv(opts);
  const proc = opts.transport.spawn(argv);
  const capture = new Capture(opts, proc);
  await capture.ready(opts.startTimeoutMs ?? 10_000);
  return capture;
}

/**
 * Start barrier: resolves when every point is listening. If one fails, the others are killed and the error
 * names the failing point(s).
 */
export async function startCaptures(all: CaptureOptions[]): Promise<Capture[]> {
  const results = await Promise.allSettled(all.map((o) => startCapture(o)));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ name: all[i].name, err: r.reason as Error }] : [],
  );
  if (failed.length === 0) return results.map((r) => (r as PromiseFulfilledResult<Capture>).value);
  await Promise.allSettled(results.map((r) => (r.status === 'fulfilled' ? r.value.abort() : undefined)));
  const first = failed[0].err;
  const code = first instanceof ChainprobeError ? first.code : 'E_CAPTURE_FAILED';
  throw new ChainprobeError(
    code,
    `capture point${failed.length > 1 ? 's' : ''} ${failed.map((f) => `"${f.name}"`).join(', ')} failed to start: ${failed.map((f) => f.err.message).join('; ')}`,
    first instanceof ChainprobeError ? first.badInput : false,
    { points: failed.map((f) => f.name) },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), ms)))]).finally(
    () => clearTimeout(t),
  );
}
