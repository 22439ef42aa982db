/**
 * Drives an out-of-process sender — the AF_PACKET helper (afpacket-tx) or the raw-socket worker
 * (worker.ts) — through a transport. Both speak one protocol:
 *   argv:   [-r PPS | -m MBPS] [-c COUNT] [-d SECONDS] [-b BURST] [-p PROGRESS_MS] [-l]
 *   stdin:  frames as [u32 LE length][bytes]; with -l the sender reads them all, then cycles through them
 *   stdout: JSON lines {"type":"ready"|"progress"|"done"|"error", ...}
 * Periodic sources are handed over once (-l), so JS does no per-frame work while sending; others are
 * streamed with backpressure, every frame passing the safety guard on its way.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ChainprobeError } from '../errors.ts';
import type { RemoteProcess, Transport } from '../transport/transport.ts';
import type { InjectPlan } from './plan.ts';
import type { DestinationGuard } from './safety.ts';
import type { FrameSource, InjectOptions, InjectStats } from './types.ts';

/** Above this many bytes a periodic set is streamed instead of handed over whole. */
const LOOP_SET_MAX_BYTES = 256 * 1024 * 1024;
const CHUNK_BYTES = 1 << 20;

export function senderArgs(plan: InjectPlan, loop: boolean): string[] {
  const a: string[] = [];
  if (plan.ratePps !== null) a.push('-r', String(plan.ratePps));
  if (plan.rateMbps !== null) a.push('-m', String(plan.rateMbps));
  if (plan.count !== null) a.push('-c', String(plan.count));
  if (plan.durationS !== null) a.push('-d', String(plan.durationS));
  if (plan.burst > 1) a.push('-b', String(plan.burst));
  a.push('-p', '1000');
  if (loop) a.push('-l');
  return a;
}

export function useLoopMode(frames: FrameSource, plan: InjectPlan): boolean {
  return frames.period !== undefined && frames.period * plan.meanLengthBytes <= LOOP_SET_MAX_BYTES;
}

interface DoneLine {
  type: 'done';
  sent: number;
  failed: number;
  bytes: number;
  elapsedNs: number;
  retries?: number;
  lastError?: string;
  stopped?: boolean;
  /** The raw worker's send path ('sendmmsg' batched addon, 'sendto' raw-socket); absent for afpacket-tx. */
  sender?: string;
}

export async function runFramedSender(
  transport: Pick<Transport, 'spawn' | 'description'>,
  argv: string[],
  frames: FrameSource,
  plan: InjectPlan,
  loop: boolean,
  guard: DestinationGuard,
  opts: InjectOptions,
  injector: InjectStats['injector'],
): Promise<InjectStats> {
  if (opts.signal?.aborted) return emptyStats(plan, injector, true);
  const proc = transport.spawn(argv, { stdin: true });
  const stdin = proc.stdin!;
  let exited = false;
  const exitedP = proc.exited.finally(() => {
    exited = true;
  });
  let stdinBroken = false;
  stdin.on('error', () => {
    stdinBroken = true; // the sender stopped reading (duration over, error, abort)
  });
  const stderrChunks: string[] = [];
  proc.stderr.on('data', (c: Buffer | string) => {
    stderrChunks.push(String(c));
    if (stderrChunks.length > 50) stderrChunks.shift();
  });

  let aborted = false;
  const onAbort = () => {
    aborted = true;
    stop(proc);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  let done: DoneLine | undefined;
  let error: { code: string; message: string } | undefined;
  let lastProgressMs = 0;
  const lines = createInterface({ input: proc.stdout });
  lines.on('line', (line) => {
    let msg: { type?: string; [k: string]: unknown };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.type === 'done') done = msg as unknown as DoneLine;
    else if (msg.type === 'error') error = { code: String(msg.code), message: String(msg.message) };
    else if (msg.type === 'progress' && opts.onProgress) {
      const now = Date.now();
      if (now - lastProgressMs >= 900) {
        lastProgressMs = now;
        opts.onProgress({ sent: Number(msg.sent), elapsedNs: Number(msg.elapsedNs) });
      }
    }
  });
  const linesClosed = once(lines, 'close');

  try {
    await feed(
      stdin,
      frames,
      plan,
      loop,
      guard,
      () => aborted || exited || stdinBroken,
      exitedP.catch(() => {}),
    );
  } catch (e) {
    stop(proc);
    await exitedP.catch(() => {});
    throw e;
  } finally {
    if (!stdinBroken) stdin.end();
  }
  const status = await exitedP;
  await Promise.race([linesClosed, new Promise((r) => setTimeout(r, 2000).unref())]);
  opts.signal?.removeEventListener('abort', onAbort);

  if (error)
    throw new ChainprobeError(
      error.code,
      `${injector} injector (${transport.description}): ${error.message}`,
      error.code === 'E_NO_INTERFACE',
    );
  if (!done) {
    if (aborted) return emptyStats(plan, injector, true);
    throw new ChainprobeError(
      'E_INJECT_FAILED',
      `${injector} sender exited (${status.exitCode ?? status.signal}) without statistics (${transport.description}): ${stderrChunks.join('').trim().slice(-1000)}`,
    );
  }
  const d = done as DoneLine;
  return {
    injector,
    sent: d.sent,
    failed: d.failed,
    bytes: d.bytes,
    elapsedNs: d.elapsedNs,
    requestedPps: plan.requestedPps,
    achievedPpsSender: d.elapsedNs > 0 ? (d.sent * 1e9) / d.elapsedNs : 0,
    aborted: aborted || d.stopped === true,
    details: {
      retries: d.retries ?? 0,
      lastError: d.lastError || undefined,
      mode: loop ? 'loop' : 'stream',
      ...(d.sender ? { sender: d.sender } : {}),
    },
  };
}

/** SIGTERM (the sender prints its statistics and exits), SIGKILL if it is still there after 2 s. */
function stop(proc: RemoteProcess): void {
  proc.signal('SIGTERM');
  const t = setTimeout(() => proc.signal('SIGKILL'), 2000);
  t.unref();
  void proc.exited.finally(() => clearTimeout(t)).catch(() => {});
}

async function feed(
  stdin: NodeJS.WritableStream,
  frames: FrameSource,
  plan: InjectPlan,
  loop: boolean,
  guard: DestinationGuard,
  stopped: () => boolean,
  gone: Promise<unknown>,
): Promise<void> {
  const total = loop
    ? Math.min(frames.period!, plan.count ?? frames.period!)
    : (plan.count ?? Number.POSITIVE_INFINITY);
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  const flush = async () => {
    if (used === 0) return;
    const out = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    used = 0;
    if (!stdin.write(out)) await drained(stdin, gone);
  };
  for (let i = 0; i < total; i++) {
    if (stopped()) return;
    const f = frames.next(i);
    guard.check(f, frames.kind, i);
    if (f.length + 4 > CHUNK_BYTES - used) {
      await flush();
      if (f.length + 4 > CHUNK_BYTES) chunk = Buffer.allocUnsafe(f.length + 4);
    }
    chunk.writeUInt32LE(f.length, used);
    chunk.set(f, used + 4);
    used += 4 + f.length;
  }
  await flush();
}

/** Wait for 'drain' (or the stream/process going away), removing the listeners afterwards. */
function drained(stdin: NodeJS.WritableStream, gone: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stdin.removeListener('drain', done);
      stdin.removeListener('close', done);
      stdin.removeListener('error', done);
      resolve();
    };
    stdin.on('drain', done);
    stdin.on('close', done);
    stdin.on('error', done);
    void gone.then(done);
  });
}

export function emptyStats(
  plan: InjectPlan,
  injector: InjectStats['injector'],
  aborted: boolean,
): InjectStats {
  return {
    injector,
    sent: 0,
    failed: 0,
    bytes: 0,
    elapsedNs: 0,
    requestedPps: plan.requestedPps,
    achievedPpsSender: 0,
    aborted,
  };
}
