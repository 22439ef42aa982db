/**
 * `tcpreplay` injector: frames are written to a pcap and replayed with tcpreplay through a transport
 * (--pps / --mbps / --topspeed, --loop, --limit, --duration, --pps-multi for bursts, -K to preload).
 *
 * Preflight (before anything is sent): root, tcpreplay present and ≥ 4.0, the interface exists, is up
 * and its MTU fits the largest frame (tcpreplay #680: EMSGSIZE), and the TX_RING 4096-byte truncation of
 * jumbo frames (tcpreplay #1079, fixed in 4.6.0): `tcpreplay -V` names the injection method; a TX_RING
 * build older than 4.6.0 refuses frames > 4096 bytes up front (there is no run-time switch away from
 * TX_RING). Debian's 4.4.3 reports "Injection method: PF_PACKET send()" and sends 9000-byte frames whole.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { RemoteProcess, Transport } from '../transport/transport.ts';
import { writePcapFile } from './pcap-file.ts';
import { type InjectPlan, planInjection } from './plan.ts';
import { assertFitsMtu, interfaceInfo, requireRoot, requireTool, requireUp } from './preflight.ts';
import { assertNotHostNamespace, assertSafeDestinations, type SafetyOptions } from './safety.ts';
import { emptyStats } from './sender.ts';
import type { FrameSource, InjectOptions, Injector, InjectStats } from './types.ts';

export interface TcpreplayInjectorOptions extends SafetyOptions {
  interface: string;
  labPrefixes: readonly string[];
  transport?: Transport;
  /** Directory for the pcap, at a path the transport's place can read (default os.tmpdir()). */
  workDir?: string;
  /** Preload the pcap into RAM (-K, default true): needed for top speed with --loop. */
  preload?: boolean;
}

export interface TcpreplayBuild {
  version: string;
  injectionMethod: string;
  txRing: boolean;
}

/** Parse `tcpreplay -V`. */
export function parseTcpreplayVersion(text: string): TcpreplayBuild {
  const version = /tcpreplay version:\s*([\d.]+[\w.-]*)/i.exec(text)?.[1] ?? 'unknown';
  const injectionMethod = /Injection method:\s*(.+)/i.exec(text)?.[1]?.trim() ?? 'unknown';
  return { version, injectionMethod, txRing: /TX_RING/i.test(injectionMethod) };
}

const versionAtLeast = (v: string, want: number[]) => {
  const got = v.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < want.length; i++) if ((got[i] ?? 0) !== want[i]) return (got[i] ?? 0) > want[i];
  return true;
};

/** Refuse what this tcpreplay build would silently mangle. */
export function assertTcpreplayCanSend(build: TcpreplayBuild, maxLengthBytes: number): void {
  if (!versionAtLeast(build.version, [4, 0]))
    throw new ChainprobeError('E_MISSING_TOOL', `tcpreplay ${build.version} is too old (need ≥ 4.0)`, false, {
      ...build,
    });
  if (build.txRing && maxLengthBytes > 4096 && !versionAtLeast(build.version, [4, 6, 0]))
    throw new ChainprobeError(
      'E_MTU',
      `tcpreplay ${build.version} sends through TX_RING (${build.injectionMethod}), which truncates frames above 4096 bytes ` +
        `(tcpreplay #1079, fixed in 4.6.0); the largest frame here is ${maxLengthBytes} bytes. Use the l2 injector, or a tcpreplay ` +
        'built without TX_RING (Debian 4.4.3 uses PF_PACKET send()) or ≥ 4.6.0',
      true,
      { ...build, maxLengthBytes },
    );
}

export interface TcpreplayOutput {
  packets: number;
  bytes: number;
  seconds: number;
  ratedPps?: number;
  ratedMbps?: number;
  successful?: number;
  failed?: number;
  truncated?: number;
  retriedEnobufs?: number;
  retriedEagain?: number;
}

/** Parse tcpreplay's final statistics (the last "Actual:" block). */
export function parseTcpreplayStats(text: string): TcpreplayOutput | undefined {
  const actual = [...text.matchAll(/Actual:\s*(\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/g)].at(
    -1,
  );
  if (!actual) return undefined;
  const tail = text.slice(actual.index);
  const num = (re: RegExp) => {
    const m = re.exec(tail);
    return m ? Number(m[1]) : undefined;
  };
  return {
    packets: Number(actual[1]),
    bytes: Number(actual[2]),
    seconds: Number(actual[3]),
    ratedMbps: num(/Rated:.*?([\d.]+) Mbps/),
    ratedPps: num(/Rated:.*?([\d.]+) pps/),
    successful: num(/Successful packets:\s*(\d+)/),
    failed: num(/Failed packets:\s*(\d+)/),
    truncated: num(/Truncated packets:\s*(\d+)/),
    retriedEnobufs: num(/Retried packets \(ENOBUFS\):\s*(\d+)/),
    retriedEagain: num(/Retried packets \(EAGAIN\):\s*(\d+)/),
  };
}

export class TcpreplayInjector implements Injector {
  readonly name = 'tcpreplay' as const;
  private readonly transport: Transport;
  constructor(private readonly o: TcpreplayInjectorOptions) {
    this.transport = o.transport ?? new LocalTransport();
  }

  /** Version and injection method of the tcpreplay at the transport's place. */
  async build(): Promise<TcpreplayBuild> {
    await requireTool(this.transport, 'tcpreplay', 'apt-get install tcpreplay');
    const r = await this.transport.run(['tcpreplay', '-V'], { timeoutMs: 10_000 });
    return parseTcpreplayVersion(`${r.stdout}\n${r.stderr}`);
  }

  async inject(frames: FrameSource, opts: InjectOptions = {}): Promise<InjectStats> {
    if (frames.kind !== 'ethernet')
      throw new ChainprobeError('E_CONFIG', 'tcpreplay replays Ethernet frames', true);
    const plan = planInjection(frames, opts);
    const guard = assertSafeDestinations(frames, this.o.labPrefixes, this.o);
    await requireRoot(this.transport, 'tcpreplay');
    const build = await this.build();
    assertTcpreplayCanSend(build, frames.maxLengthBytes);
    await assertNotHostNamespace(this.transport, this.o);
    const info = await interfaceInfo(this.transport, this.o.interface);
    requireUp(info);
    assertFitsMtu(info, frames.maxLengthBytes, 'ethernet');
    if (opts.signal?.aborted) return emptyStats(plan, 'tcpreplay', true);

    // Periodic sources: one period in the file, looped; others: every frame in the file.
    const inFile =
      frames.period !== undefined ? Math.min(frames.period, plan.count ?? frames.period) : plan.count;
    if (inFile === null)
      throw new ChainprobeError('E_CONFIG', 'tcpreplay needs a periodic frame source or a count', true);
    const path = join(
      this.o.workDir ?? tmpdir(),
      `chainprobe-inject-${process.pid}-${randomBytes(4).toString('hex')}.pcap`,
    );
    await writePcapFile(path, frames, inFile, guard);
    try {
      return await this.replay(path, inFile, plan, opts, build);
    } finally {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  }

  private async replay(
    path: string,
    inFile: number,
    plan: InjectPlan,
    opts: InjectOptions,
    build: TcpreplayBuild,
  ): Promise<InjectStats> {
    const argv = ['tcpreplay', '-i', this.o.interface, '--stats=1'];
    if (plan.ratePps !== null) argv.push(`--pps=${plan.ratePps}`);
    else if (plan.rateMbps !== null) argv.push(`--mbps=${plan.rateMbps}`);
    else argv.push('--topspeed');
    if (plan.burst > 1 && plan.ratePps !== null) argv.push(`--pps-multi=${plan.burst}`);
    if (plan.count !== null) {
      argv.push(`--loop=${Math.max(1, Math.ceil(plan.count / inFile))}`);
      if (plan.count % inFile !== 0) argv.push(`--limit=${plan.count}`);
    } else argv.push('--loop=0');
    if (plan.durationS !== null) argv.push(`--duration=${Math.ceil(plan.durationS)}`);
    if (this.o.preload !== false) argv.push('-K');
    argv.push(path);

    const proc: RemoteProcess = this.transport.spawn(argv);
    let text = '';
    let lastProgress = 0;
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (l) => {
      text += `${l}\n`;
      const m = /Actual:\s*(\d+) packets .* sent in ([\d.]+) seconds/.exec(l);
      if (m && opts.onProgress && Date.now() - lastProgress >= 900) {
        lastProgress = Date.now();
        opts.onProgress({ sent: Number(m[1]), elapsedNs: Number(m[2]) * 1e9 });
      }
    });
    let err = '';
    proc.stderr.on('data', (c: Buffer | string) => {
      err = (err + String(c)).slice(-8000);
    });
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      proc.signal('SIGINT'); // tcpreplay stops and prints its statistics
      setTimeout(() => proc.signal('SIGKILL'), 2000).unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const status = await proc.exited;
    opts.signal?.removeEventListener('abort', onAbort);
    await new Promise((r) => setImmediate(r));
    const s = parseTcpreplayStats(text);
    if (!s) {
      if (aborted) return emptyStats(plan, 'tcpreplay', true);
      throw new ChainprobeError(
        'E_INJECT_FAILED',
        `tcpreplay exited (${status.exitCode ?? status.signal}) without statistics (${this.transport.description}): ${err.trim().slice(-1500) || text.slice(-500)}`,
        false,
        { argv },
      );
    }
    const sent = s.successful ?? s.packets;
    const elapsedNs = s.seconds * 1e9;
    return {
      injector: 'tcpreplay',
      sent,
      failed: s.failed ?? 0,
      bytes: s.bytes,
      elapsedNs,
      requestedPps: plan.requestedPps,
      achievedPpsSender: elapsedNs > 0 ? (sent * 1e9) / elapsedNs : 0,
      aborted,
      details: {
        version: build.version,
        injectionMethod: build.injectionMethod,
        truncated: s.truncated,
        retriedEnobufs: s.retriedEnobufs,
        retriedEagain: s.retriedEagain,
        ratedPps: s.ratedPps,
        warnings:
          err
            .replace(/^File Cache is enabled\s*$/m, '')
            .trim()
            .slice(-1000) || undefined,
      },
    };
  }
}
