/**
 * The NDR/PDR benchmark of one chain: per payload size an MLRsearch-style search (search.ts) over a
 * ChainSession, then latency under load at 10, 50 and 90 % of the PDR with every capture point (end to end
 * and per hop pair, HDR percentiles from the analyser). The document it returns is the `ndr --json` contract.
 */
import { cpus, hostname, loadavg } from 'node:os';
import type { Profile } from '../chain/profile.ts';
import type { LatencySummary } from '../report/results.ts';
import type { ChainSession } from '../run/session.ts';
import { sessionMeasure } from './measure.ts';
import { type GoalResult, type RecordedTrial, type SearchConfig, searchNdrPdr } from './search.ts';

const NDR_SCHEMA_VERSION = 1;

/** Shares of the PDR at which latency under load is measured (percent). */
const LATENCY_LOADS = [10, 50, 90] as const;

export interface RateResult {
  /** the Relevant Lower Bound (pps); null when not even Min Load met the goal */
  pps: number | null;
  lowerPps: number | null;
  upperPps: number | null;
  lossRatio: number;
  converged: boolean;
  note?: string;
}

export interface LatencyAtLoad {
  offeredPps: number;
  sent: number;
  delivered: number;
  e2e: LatencySummary;
  perHop: { from: string; to: string; latency: LatencySummary }[];
  note?: string;
}

export interface SizeResult {
  payloadBytes: number;
  ndr: RateResult;
  pdr: RateResult;
  /** keyed by percent of PDR ("10", "50", "90"); absent when there is no PDR to take a share of */
  latency: Record<string, LatencyAtLoad>;
  trials: RecordedTrial[];
  injectorLimitPps: number | null;
  /** wall time of this size's search and latency trials (s) */
  tookS: number;
}

export interface NdrDocument {
  schemaVersion: typeof NDR_SCHEMA_VERSION;
  tool: { name: 'chainprobe'; version: string };
  startedAt: string;
  profile: string;
  injector: string;
  machine: MachineInfo;
  settings: Omit<SearchConfig, 'goals' | 'onTrial'> & { lossRatios: [number, number]; latencyTrialS: number };
  sizes: SizeResult[];
  tookS: number;
}

export interface MachineInfo {
  hostname: string;
  cpus: number;
  /** 1-minute load average when the run started: a shared machine's numbers move with it */
  loadAverage: number;
}

function machineInfo(): MachineInfo {
  return { hostname: hostname(), cpus: cpus().length, loadAverage: Number(loadavg()[0].toFixed(2)) };
}

export interface NdrOptions {
  profile: Profile;
  injector: string;
  sizes: number[];
  /** [NDR loss ratio, PDR loss ratio] */
  lossRatios: [number, number];
  search: Omit<SearchConfig, 'goals' | 'onTrial'>;
  /** duration of each latency-under-load trial (s) */
  latencyTrialS: number;
  version: string;
  log?: (line: string) => void;
}

export async function runNdrBenchmark(session: ChainSession, o: NdrOptions): Promise<NdrDocument> {
  const log = o.log ?? (() => {});
  const startedAt = new Date();
  const sizes: SizeResult[] = [];
  for (const payloadBytes of o.sizes) {
    const t0 = Date.now();
    log(`── ${payloadBytes} B: searching NDR (loss ${o.lossRatios[0]}) and PDR (loss ≤ ${o.lossRatios[1]})`);
    const search = await searchNdrPdr(sessionMeasure(session, [payloadBytes]), {
      ...o.search,
      goals: [
        { name: 'ndr', lossRatio: o.lossRatios[0] },
        { name: 'pdr', lossRatio: o.lossRatios[1] },
      ],
      onTrial: (t) => log(trialLine(payloadBytes, t, Date.now() - t0)),
    });
    const [ndr, pdr] = search.goals.map(rateResult);
    log(`   ${payloadBytes} B: NDR ${bounds(ndr)}, PDR ${bounds(pdr)}`);
    const latency: Record<string, LatencyAtLoad> = {};
    if (pdr.pps !== null) {
      for (const share of LATENCY_LOADS) {
        const rate = Math.max(1, Math.round((pdr.pps * share) / 100));
        const s = await session.trial({
          ratePps: rate,
          durationS: o.latencyTrialS,
          payloadBytes: [payloadBytes],
        });
        const l = s.results.latency;
        latency[String(share)] = {
          offeredPps: rate,
          sent: s.inject.sent,
          delivered: s.results.delivered,
          e2e: l.e2e,
          perHop: l.perHop,
          ...(s.results.captureDrops.some((c) => c.flagged)
            ? { note: 'a capture point dropped packets during this trial: latency from the probes it kept' }
            : {}),
        };
        log(
          `   latency at ${share} % of PDR (${rate} pps): p50 ${us(l.e2e.p50Ns)}, p99 ${us(l.e2e.p99Ns)} end to end`,
        );
      }
    }
    sizes.push({
      payloadBytes,
      ndr,
      pdr,
      latency,
      trials: search.trials,
      injectorLimitPps: search.injectorLimitPps,
      tookS: (Date.now() - t0) / 1000,
    });
  }
  return {
    schemaVersion: NDR_SCHEMA_VERSION,
    tool: { name: 'chainprobe', version: o.version },
    startedAt: startedAt.toISOString(),
    profile: o.profile.name,
    injector: o.injector,
    machine: machineInfo(),
    settings: { ...o.search, lossRatios: o.lossRatios, latencyTrialS: o.latencyTrialS },
    sizes,
    tookS: (Date.now() - startedAt.getTime()) / 1000,
  };
}

function rateResult(g: GoalResult): RateResult {
  return {
    pps: g.pps,
    lowerPps: g.lowerPps,
    upperPps: g.upperPps,
    lossRatio: g.lossRatio,
    converged: g.converged,
    ...(g.note ? { note: g.note } : {}),
  };
}

const us = (ns: number | null) => (ns === null ? 'n/a' : `${(ns / 1000).toFixed(1)} µs`);
const bounds = (r: RateResult) =>
  `${r.pps ?? 'none'} pps [${r.lowerPps ?? '—'} … ${r.upperPps ?? '—'}]${r.note ? ` (${r.note})` : ''}`;

/** One progress line per trial: what was offered, what came back, the bounds now. */
function trialLine(payloadBytes: number, t: RecordedTrial, elapsedMs: number): string {
  const b = Object.entries(t.bounds)
    .map(([g, x]) => `${g} [${x.lowerPps ?? '—'} … ${x.upperPps ?? '—'}]`)
    .join(' ');
  const what = t.valid
    ? `loss ${(t.lossRatio * 100).toFixed(3)} % (${t.sent - t.delivered} of ${t.sent})`
    : `INVALID: ${t.invalidReason}`;
  return `   [${(elapsedMs / 1000).toFixed(0).padStart(4)} s] #${t.index} ${t.phase.padEnd(12)} ${payloadBytes} B @ ${t.offeredPps} pps × ${t.durationS} s: ${what}; ${b}`;
}
