/**
 * `raw` injector: IPv4 packets (the outer packet, spoofed source allowed) through a raw socket with
 * IP_HDRINCL; the kernel routes on the packet's destination. In this Node process (`transport` omitted:
 * this process's namespace) or, since a Node process cannot send from another namespace, in a worker
 * process started through the transport (`ip netns exec NS node worker.js`, from source with tsx) fed over stdin.
 * Either way packets go out in sendmmsg batches through the native/rawtx addon (raw-batch.ts), or one
 * sendto each through raw-socket when the addon is not built or CHAINPROBE_NO_NATIVE=1 (details.sender).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Transport } from '../transport/transport.ts';
import { planInjection } from './plan.ts';
import { assertFitsMtu, interfaceInfo, requireRoot, requireUp } from './preflight.ts';
import { closeRawSender, DEFAULT_BATCH, openRawSender, runRawSender } from './raw-batch.ts';
import { assertNotHostNamespace, assertSafeDestinations, type SafetyOptions } from './safety.ts';
import { emptyStats, runFramedSender, senderArgs, useLoopMode } from './sender.ts';
import type { FrameSource, InjectOptions, Injector, InjectStats } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
// Installed, this module is dist/inject/raw.js and the worker plain JavaScript; in the repository it is
// TypeScript, which a child `node` runs through tsx's ESM loader (a devDependency).
const compiled = import.meta.url.endsWith('.js');
const WORKER_PATH = join(here, compiled ? 'worker.js' : 'worker.ts');

export interface RawInjectorOptions extends SafetyOptions {
  labPrefixes: readonly string[];
  /** Run the sender there (worker process). Omit to send from this process. */
  transport?: Transport;
  /** Expected egress interface: checked to exist and to be the route to the first destination. */
  interface?: string;
  /** Packets per sendmmsg with the native/rawtx addon (default 64, at most 256). */
  batch?: number;
}

/** Periodic sets up to this many bytes are copied once and cycled by the in-process batched sender. */
const IN_PROCESS_SET_MAX_BYTES = 64 * 1024 * 1024;

/** `node …` running the worker: by itself when compiled, with tsx's loader (by absolute URL) from source. */
function workerNode(): string[] {
  return compiled ? ['node', WORKER_PATH] : ['node', '--import', import.meta.resolve('tsx'), WORKER_PATH];
}

export class RawInjector implements Injector {
  readonly name = 'raw' as const;
  constructor(private readonly o: RawInjectorOptions) {}

  async inject(frames: FrameSource, opts: InjectOptions = {}): Promise<InjectStats> {
    if (frames.kind !== 'ipv4')
      throw new ChainprobeError(
        'E_CONFIG',
        'the raw injector sends IPv4 packets (no Ethernet header); use the l2 injector for frames',
        true,
      );
    const plan = planInjection(frames, opts);
    const guard = assertSafeDestinations(frames, this.o.labPrefixes, this.o);
    const place = this.o.transport ?? new LocalTransport();
    await requireRoot(place, 'the raw-socket injector');
    await assertNotHostNamespace(place, this.o);
    await this.preflightRoute(place, frames);

    if (this.o.transport) {
      const loop = useLoopMode(frames, plan);
      const argv = [...workerNode(), ...senderArgs(plan, loop)];
      if (this.o.batch !== undefined) argv.push('-B', String(this.o.batch));
      if (process.env.CHAINPROBE_NO_NATIVE === '1') argv.push('-N');
      return runFramedSender(this.o.transport, argv, frames, plan, loop, guard, opts, 'raw');
    }

    if (opts.signal?.aborted) return emptyStats(plan, 'raw', true);
    const sock = openRawSender();
    let lastProgress = 0;
    // A periodic source is handed over once (copies: next() may reuse its buffer) and cycled.
    const set =
      sock.kind === 'sendmmsg' &&
      frames.period !== undefined &&
      frames.period * plan.meanLengthBytes <= IN_PROCESS_SET_MAX_BYTES
        ? Array.from({ length: frames.period }, (_, i) => frames.next(i).slice())
        : undefined;
    try {
      const r = await runRawSender(
        sock,
        {
          get: (k) => frames.next(k),
          more: async () => false,
          check: guard.open ? undefined : (f, k) => guard.check(f, 'ipv4', k),
          set,
        },
        plan,
        {
          stopped: () => opts.signal?.aborted === true,
          progress: (sent, _failed, elapsedNs) => {
            const now = Date.now();
            if (opts.onProgress && now - lastProgress >= 900) {
              lastProgress = now;
              opts.onProgress({ sent, elapsedNs });
            }
          },
        },
        this.o.batch ?? DEFAULT_BATCH,
      );
      return {
        injector: 'raw',
        sent: r.sent,
        failed: r.failed,
        bytes: r.bytes,
        elapsedNs: r.elapsedNs,
        requestedPps: plan.requestedPps,
        achievedPpsSender: r.elapsedNs > 0 ? (r.sent * 1e9) / r.elapsedNs : 0,
        aborted: r.stopped,
        details: { retries: r.retries, lastError: r.lastError, mode: 'in-process', sender: r.sender },
      };
    } finally {
      closeRawSender(sock);
    }
  }

  /** The route to the first destination must exist; its interface must fit the largest packet. */
  private async preflightRoute(place: Transport, frames: FrameSource): Promise<void> {
    const f = frames.next(0);
    const dst = `${f[16]}.${f[17]}.${f[18]}.${f[19]}`;
    if (this.o.interface) {
      const info = await interfaceInfo(place, this.o.interface);
      requireUp(info);
    }
    const r = await place.run(['ip', '-j', 'route', 'get', dst], { timeoutMs: 10_000 });
    if (r.exitCode !== 0)
      throw new ChainprobeError(
        'E_NO_INTERFACE',
        `no route to ${dst} (${place.description}): ${r.stderr.trim()}`,
        true,
        { destination: dst },
      );
    const [route] = JSON.parse(r.stdout) as Array<{ dev: string }>;
    if (this.o.interface && route.dev !== this.o.interface)
      throw new ChainprobeError(
        'E_NO_INTERFACE',
        `the route to ${dst} leaves through ${route.dev}, not ${this.o.interface} (${place.description})`,
        true,
      );
    assertFitsMtu(await interfaceInfo(place, route.dev), frames.maxLengthBytes, 'ipv4');
  }
}
