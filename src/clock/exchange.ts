/**
 * NTP-style exchange over a transport: a tiny helper runs at the host and answers each line on stdin with
 * its realtime clock in ns. Each sample brackets the host's reading between two readings of this process's
 * monotonic clock (t0 before the request, t1 after the answer), so the host read its clock at some instant
 * in [t0, t1]: taking the midpoint errs by at most RTT/2. The sample with the smallest RTT wins.
 *
 * The reference clock is read the same way (the same helper through a LocalTransport), so the mapping
 * from this process's monotonic clock to realtime cancels out, and no millisecond `Date.now()` enters.
 *
 * Helpers are a registry, tried in order: python3 (no fork per sample: RTT ≈ the link's) and a POSIX shell
 * loop around `date +%s%N` (a fork per sample; GNU and busybox date). Add one for hosts with neither.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Transport } from '../transport/transport.ts';
import type { ClockOffset } from './offset.ts';

export interface ClockHelper {
  name: string;
  /** the command that must exist at the host */
  needs: string;
  argv: string[];
}

const helpers: ClockHelper[] = [
  {
    name: 'python3',
    needs: 'python3',
    argv: ['python3', '-u', '-c', 'import sys,time\nfor _ in sys.stdin: print(time.time_ns(), flush=True)'],
  },
  {
    name: 'date',
    needs: 'date',
    argv: ['sh', '-c', 'while read -r _; do date +%s%N; done'],
  },
];

export function registerClockHelper(h: ClockHelper): void {
  if (!helpers.some((x) => x.name === h.name)) helpers.push(h);
}

export interface ExchangeOptions {
  /** samples taken (default 16); the minimum-RTT one is used */
  samples?: number;
  timeoutMs?: number;
}

/** One side of the exchange: host clock minus this process's monotonic clock, at the best sample. */
interface Reading {
  /** host realtime − local monotonic midpoint (ns) */
  deltaNs: number;
  rttNs: number;
  helper: string;
  monoNs: bigint;
}

async function pickHelper(t: Transport): Promise<ClockHelper> {
  for (const h of helpers) {
    const r = await t.run(['sh', '-c', 'command -v "$1"', 'sh', h.needs], { timeoutMs: 10_000 });
    if (r.exitCode === 0 && r.stdout.trim()) return h;
  }
  throw new ChainprobeError(
    'E_MISSING_TOOL',
    `no clock helper at ${t.description} (tried ${helpers.map((h) => h.needs).join(', ')})`,
  );
}

async function read(t: Transport, o: ExchangeOptions): Promise<Reading> {
  const helper = await pickHelper(t);
  const proc = t.spawn(helper.argv, { stdin: true });
  const lines = createInterface({ input: proc.stdout });
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  lines.on('line', (l) => {
    queue.push(l);
    wake?.();
  });
  const next = async (deadline: number): Promise<string> => {
    while (queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new ChainprobeError(
          'E_TIMEOUT',
          `clock helper (${helper.name}) at ${t.description} did not answer`,
        );
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, left).unref();
      });
    }
    return queue.shift() as string;
  };
  let best: Reading | undefined;
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 20_000);
    for (let i = 0; i < (o.samples ?? 16); i++) {
      const t0 = process.hrtime.bigint();
      proc.stdin?.write('\n');
      const line = await next(deadline);
      const t1 = process.hrtime.bigint();
      if (!/^\d{10,}$/.test(line.trim()))
        throw new ChainprobeError(
          'E_MISSING_TOOL',
          `clock helper (${helper.name}) at ${t.description} printed "${line.slice(0, 60)}", not ns since epoch`,
        );
      if (i === 0) continue; // the first answer pays for start-up
      const mid = (t0 + t1) / 2n;
      const r: Reading = {
        deltaNs: Number(BigInt(line.trim()) - mid),
        rttNs: Number(t1 - t0),
        helper: helper.name,
        monoNs: mid,
      };
      if (!best || r.rttNs < best.rttNs) best = r;
    }
  } finally {
    proc.stdin?.end();
    lines.close();
    proc.signal('SIGKILL');
    await Promise.race([proc.exited.catch(() => {}), once(lines, 'close').catch(() => {})]);
  }
  if (!best) throw new ChainprobeError('E_CONFIG', 'a clock exchange needs at least 2 samples', true);
  return best;
}

let reference: Promise<Reading> | undefined;

/** The analysing host's own reading (cached: the monotonic↔realtime relation does not move in a run). */
function referenceReading(o: ExchangeOptions): Promise<Reading> {
  reference ??= read(new LocalTransport(), { ...o, samples: Math.max(o.samples ?? 16, 16) });
  return reference;
}

/** Offset of the host behind `t` against this host, error ≤ (host RTT + reference RTT) / 2. */
export async function exchangeClockOffset(
  t: Transport,
  o: ExchangeOptions = {},
): Promise<ClockOffset & { rttNs: number }> {
  const ref = await referenceReading(o);
  const host = await read(t, o);
  const offsetNs = host.deltaNs - ref.deltaNs;
  return {
    offsetNs,
    uncertaintyNs: Math.ceil((host.rttNs + ref.rttNs) / 2),
    rttNs: host.rttNs,
    method: `exchange over ${t.description} (${host.helper}, min RTT ${(host.rttNs / 1e3).toFixed(0)} µs)`,
    atNs: Number(host.monoNs) + ref.deltaNs,
  };
}
