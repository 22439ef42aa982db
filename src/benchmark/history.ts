/**
 * The benchmark history: one versioned JSON record per nightly run, appended to a JSON-lines file (keep it
 * as a CI artifact and restore it before the next run). A record carries what identifies the run (commit,
 * date, machine, profile) and its figures: per payload size NDR, PDR, latency under load; soak results
 * as generic named metrics. `metricsOf` flattens a record into the series `chainprobe trend` charts.
 */

import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ChainprobeError } from '../errors.ts';
import type { NdrDocument } from './ndr.ts';

const HISTORY_VERSION = 1;

const latencyAtLoad = z.object({ p50Ns: z.number().nullable(), p99Ns: z.number().nullable() });

const metric = z.object({
  name: z.string().min(1),
  value: z.number(),
  unit: z.string(),
  better: z.enum(['higher', 'lower']),
});

export const historyRecordSchema = z.object({
  schema: z.literal('chainprobe-history'),
  version: z.literal(HISTORY_VERSION),
  commit: z.string().nullable(),
  date: z.string().min(1),
  machine: z.object({ hostname: z.string(), cpus: z.number(), loadAverage: z.number() }),
  profile: z.string(),
  /** final trial duration of the search (s): NDRs from different trial lengths are different series */
  finalTrialS: z.number().positive().optional(),
  sizes: z.array(
    z.object({
      payloadBytes: z.number().int().positive(),
      ndrPps: z.number().nullable(),
      pdrPps: z.number().nullable(),
      /** keyed by percent of PDR */
      latency: z.record(z.string(), latencyAtLoad),
    }),
  ),
  soak: z.array(metric).optional(),
});

export type HistoryRecord = z.infer<typeof historyRecordSchema>;
export type SoakMetric = z.infer<typeof metric>;

export function historyRecordFromNdr(
  doc: NdrDocument,
  o: { commit?: string; soak?: SoakMetric[] } = {},
): HistoryRecord {
  return {
    schema: 'chainprobe-history',
    version: HISTORY_VERSION,
    commit: o.commit ?? currentCommit(),
    date: doc.startedAt,
    machine: doc.machine,
    profile: doc.profile,
    finalTrialS: doc.settings.finalTrialDurationS,
    sizes: doc.sizes.map((s) => ({
      payloadBytes: s.payloadBytes,
      ndrPps: s.ndr.pps,
      pdrPps: s.pdr.pps,
      latency: Object.fromEntries(
        Object.entries(s.latency).map(([share, l]) => [share, { p50Ns: l.e2e.p50Ns, p99Ns: l.e2e.p99Ns }]),
      ),
    })),
    ...(o.soak?.length ? { soak: o.soak } : {}),
  };
}

function currentCommit(): string | null {
  if (process.env.GITHUB_SHA) return process.env.GITHUB_SHA;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

export function appendHistory(path: string, record: HistoryRecord): void {
  historyRecordSchema.parse(record);
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}

/** Reads a history file; a malformed line is a typed error naming the line and field (exit 2). */
export function readHistory(path: string): HistoryRecord[] {
  if (!existsSync(path)) throw new ChainprobeError('E_CONFIG', `no history file at ${path}`, true, { path });
  const out: HistoryRecord[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (e) {
        throw new ChainprobeError('E_CONFIG', `${path}:${i + 1}: not JSON (${(e as Error).message})`, true);
      }
      const r = historyRecordSchema.safeParse(json);
      if (!r.success)
        throw new ChainprobeError(
          'E_CONFIG',
          `${path}:${i + 1}: not a chainprobe history record v${HISTORY_VERSION}: ${r.error.issues
            .map((x) => `${x.path.join('.') || '(record)'}: ${x.message}`)
            .join('; ')}`,
          true,
        );
      out.push(r.data);
    });
  return out;
}

export interface MetricValue {
  /** stable key, e.g. "ndr/100B", "latency-p99@90%/8000B", "soak/flows-exported" */
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /**
   * Whether a regression of this metric fails the job. Rates and soak results do; latency under load is
   * charted and marked but informational: it is measured at a share of that night's PDR, so it moves
   * with the PDR, and on a shared machine its tail moves with every other process.
   */
  gating: boolean;
  value: number;
}

/** The figures of one record as trend metrics (missing figures — no NDR, too few samples — are left out). */
export function metricsOf(r: HistoryRecord): MetricValue[] {
  const out: MetricValue[] = [];
  for (const s of r.sizes) {
    // a series per payload size and trial length: a 10 s trial sees more stalls than a 2 s one
    const b = `${s.payloadBytes}B${r.finalTrialS !== undefined ? `@${r.finalTrialS}s` : ''}`;
    const trials = r.finalTrialS !== undefined ? `, ${r.finalTrialS} s trials` : '';
    for (const [goal, pps] of [
      ['ndr', s.ndrPps],
      ['pdr', s.pdrPps],
    ] as const)
      if (pps !== null)
        out.push({
          key: `${goal}/${b}`,
          label: `${goal.toUpperCase()}, ${s.payloadBytes} B${trials}`,
          unit: 'pps',
          better: 'higher',
          gating: true,
          value: pps,
        });
    for (const [share, l] of Object.entries(s.latency))
      for (const [p, v] of [
        ['p50', l.p50Ns],
        ['p99', l.p99Ns],
      ] as const)
        if (v !== null)
          out.push({
            key: `latency-${p}@${share}%/${b}`,
            label: `latency ${p} at ${share} % of PDR, ${s.payloadBytes} B${trials}`,
            unit: 'µs',
            better: 'lower',
            gating: false,
            value: v / 1000,
          });
  }
  for (const m of r.soak ?? [])
    out.push({
      key: `soak/${m.name}`,
      label: `soak: ${m.name}`,
      unit: m.unit,
      better: m.better,
      gating: true,
      value: m.value,
    });
  return out;
}
