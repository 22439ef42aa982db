/**
 * The raw injector's sender process, for namespaces and other places a Node process cannot send from:
 *   ip netns exec NS node --import <tsx loader URL> src/inject/worker.ts [-r PPS|-m MBPS] [-c N] [-d S] [-b B] [-p MS] [-l]
 *     [-B BATCH] [-N]
 * Same protocol as native/afpacket-tx.c (see sender.ts): length-prefixed IPv4 packets on stdin, JSON lines
 * on stdout. SIGTERM/SIGINT stop it; it still prints its statistics. Sends with the batched addon
 * (native/rawtx: one sendmmsg per BATCH packets, default 64) when it loads, else with raw-socket (one sendto
 * per packet); -N (or CHAINPROBE_NO_NATIVE=1) forces raw-socket. The "done" line says which: sender.
 */
import { parseArgs } from 'node:util';
import type { ChainprobeError } from '../errors.ts';
import { closeRawSender, DEFAULT_BATCH, openRawSender, type RawSender, runRawSender } from './raw-batch.ts';
import type { PullSource } from './raw-loop.ts';

const { values } = parseArgs({
  options: {
    r: { type: 'string' },
    m: { type: 'string' },
    c: { type: 'string' },
    d: { type: 'string' },
    b: { type: 'string' },
    p: { type: 'string' },
    l: { type: 'boolean' },
    B: { type: 'string' },
    N: { type: 'boolean' },
  },
});
const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
let stopped = false;
process.on('SIGTERM', () => (stopped = true));
process.on('SIGINT', () => (stopped = true));
process.stdout.on('error', () => {});

let sock: RawSender;
try {
  sock = openRawSender({ forceFallback: values.N === true });
} catch (e) {
  const err = e as ChainprobeError;
  out({ type: 'error', code: err.code ?? 'E_INJECT_FAILED', message: err.message });
  process.exit(2);
}
out({ type: 'ready' });

// ---- stdin framing: [u32 LE length][bytes] ----
const frames: Uint8Array[] = [];
let base = 0; // index of frames[0]
let pending: Buffer = Buffer.alloc(0);
let ended = false;
let wake: (() => void) | undefined;
process.stdin.on('data', (chunk: Buffer) => {
  let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  let p = 0;
  while (buf.length - p >= 4) {
    const len = buf.readUInt32LE(p);
    if (buf.length - p < 4 + len) break;
    frames.push(buf.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  pending = buf.subarray(p);
  buf = pending;
  wake?.();
});
const onEnd = () => {
  ended = true;
  wake?.();
};
process.stdin.on('end', onEnd);
process.stdin.on('close', onEnd);
process.stdin.on('error', onEnd);
const more = (): Promise<boolean> =>
  new Promise((resolve) => {
    if (ended || stopped) return resolve(false);
    wake = () => {
      wake = undefined;
      resolve(true);
    };
  });

const num = (s: string | undefined) => (s === undefined ? null : Number(s));
const plan = {
  ratePps: num(values.r),
  rateMbps: num(values.m),
  count: num(values.c),
  durationS: num(values.d),
  burst: num(values.b) ?? 1,
};

let src: PullSource & { set?: readonly Uint8Array[] };
if (values.l) {
  while (!ended && !stopped) await more();
  const set = frames.slice();
  if (plan.count === null && plan.durationS === null) plan.count = set.length;
  src = {
    get: (k) => (set.length ? set[k % set.length] : undefined),
    more: async () => false,
    set: set.length ? set : undefined,
  };
} else {
  src = {
    get(k) {
      const f = frames[k - base];
      // Drop consumed frames now and then (keeps memory bounded while streaming).
      if (k - base > 65536) {
        frames.splice(0, k - base);
        base = k;
      }
      return f;
    },
    more,
  };
}
const r = await runRawSender(
  sock,
  src,
  plan,
  {
    stopped: () => stopped,
    progress: (sent, failed, elapsedNs) => out({ type: 'progress', sent, failed, elapsedNs }),
  },
  num(values.B) ?? DEFAULT_BATCH,
);
closeRawSender(sock);
out({ type: 'done', ...r });
process.stdin.destroy();
process.exit(0);
