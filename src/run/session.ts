/**
 * A ChainSession: one chain, many trials. The transports to every hop and to the injector are opened once
 * and kept for the whole session; each trial is one `runChain` over them with its own probe run id, so a
 * probe of one trial is never counted in another (the analyser keeps only its run id's probes).
 *
 * Captures are per trial: tcpdump hands over its last ring block only at stop (REFCHAIN G9), so a capture
 * kept open across trials could not tell when a trial's last packets are in without the same settle a stop
 * costs; per-trial captures keep the analysis exactly runChain's.
 * src/benchmark/measure.ts turns these trials into the NDR/PDR search's measurements.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeSaKey } from '../chain/oracle.ts';
import type { Profile } from '../chain/profile.ts';
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';
import { type InjectorKind, openChainTransports, type RunOutcome, runChain } from './run.ts';

export interface SessionOptions {
  profile: Profile;
  injector?: InjectorKind;
  runtimeKeys?: RuntimeSaKey[];
  /** per-trial captures go under here (trial-N/), removed after analysis unless kept */
  workDir: string;
  allowOutsideLab?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface TrialRequest {
  ratePps: number;
  durationS: number;
  payloadBytes: number[];
  /**
   * Stop sending after this many seconds even if not all probes went out (default 2 × duration + 1 s): an
   * injector that cannot keep up would otherwise stretch a 1 s trial into minutes. The stats then say
   * `aborted`, with what was sent.
   */
  maxSendS?: number;
  /** keep this trial's per-point pcaps (default: removed once analysed) */
  keepCaptures?: boolean;
  /**
   * 'all' capture points (per-hop latency, where probes vanish), or only the 'last' one: enough for loss
   * (sent comes from the injector), one tcpdump instead of one per point and no ESP to decrypt — what a
   * search trial needs. Default 'all'.
   */
  points?: 'all' | 'last';
}

export interface SessionTrial extends RunOutcome {
  runId: number;
  captureDir: string;
}

export class ChainSession {
  private trials = 0;
  private closed = false;
  private readonly firstRunId = (Math.random() * 0x7fffffff) >>> 0;

  private constructor(
    readonly options: SessionOptions,
    private readonly transports: Map<string, Transport>,
  ) {}

  static async open(o: SessionOptions): Promise<ChainSession> {
    mkdirSync(o.workDir, { recursive: true });
    const transports = new Map<string, Transport>();
    try {
      await openChainTransports(o.profile, transports);
    } catch (e) {
      await Promise.allSettled([...transports.values()].map((t) => t.close()));
      throw e;
    }
    return new ChainSession(o, transports);
  }

  /** One trial: captures at every point, `ratePps` for `durationS`, analysed; transports stay open. */
  async trial(r: TrialRequest): Promise<SessionTrial> {
    if (this.closed) throw new ChainprobeError('E_CONFIG', 'the chain session is closed', true);
    const n = this.trials++;
    const runId = (this.firstRunId + n) >>> 0;
    const captureDir = join(this.options.workDir, `trial-${n}`);
    const maxSendMs = Math.round(1000 * (r.maxSendS ?? 2 * r.durationS + 1));
    try {
      const { profile } = this.options;
      const outcome = await runChain({
        profile: r.points === 'last' ? { ...profile, captures: profile.captures.slice(-1) } : profile,
        pps: r.ratePps,
        count: Math.max(1, Math.round(r.ratePps * r.durationS)),
        durationS: r.durationS,
        payloadBytes: r.payloadBytes,
        injector: this.options.injector,
        runtimeKeys: this.options.runtimeKeys,
        captureDir,
        runId,
        allowOutsideLab: this.options.allowOutsideLab,
        signal: this.options.signal
          ? AbortSignal.any([this.options.signal, AbortSignal.timeout(maxSendMs)])
          : AbortSignal.timeout(maxSendMs),
        log: this.options.log,
        transports: this.transports,
        bundle: r.keepCaptures === true,
      });
      return { ...outcome, runId, captureDir };
    } finally {
      if (!r.keepCaptures) rmSync(captureDir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.transports.values()].map((t) => t.close()));
  }
}
