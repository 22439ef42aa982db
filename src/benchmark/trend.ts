/**
 * Trends over the benchmark history: every metric's series grouped by jumpavg (CSIT's trending), each
 * group after the first labelled a regression or progression against the one before, and a regression
 * *alarm* when the latest run sits in a regression group — the chain got worse and has not recovered.
 *
 * Thresholds (printed in the report): jumpavg's unit is a fixed share of the series' maximum (the values'
 * resolution; smaller = a new group must explain more), and a group's change of average below
 * `minRelativeChange` is labelled normal — these machines are shared, and a few % of drift is weather.
 */

import { type HistoryRecord, type MetricValue, metricsOf } from './history.ts';
import { classify, type Group } from './jumpavg.ts';

export interface TrendSettings {
  /** jumpavg unit = unitShare × the series' maximal value */
  unitShare: number;
  /** changes of a group's average smaller than this (relative) are not anomalies */
  minRelativeChange: number;
}

export const DEFAULT_TREND_SETTINGS: TrendSettings = { unitShare: 1 / 1024, minRelativeChange: 0.05 };

export interface TrendGroup extends Group {
  /** relative change of the average against the previous group (null for the first) */
  change: number | null;
  /** direction-aware: a regression is a drop for rates, a rise for latency */
  anomaly: 'regression' | 'progression' | null;
}

export interface MetricTrend {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  points: { run: number; value: number; commit: string | null; date: string }[];
  groups: TrendGroup[];
  /** whether a regression of this metric fails the job (see MetricValue.gating) */
  gating: boolean;
  /** the latest run is in a regression group */
  regression: boolean;
}

export interface TrendAnalysis {
  runs: { commit: string | null; date: string; machine: string }[];
  metrics: MetricTrend[];
  settings: TrendSettings;
  /** gating metrics whose latest run is in a regression group: the job fails */
  regressions: MetricTrend[];
  /** informational metrics (latency under load) whose latest run is in a regression group */
  warnings: MetricTrend[];
}

export function analyzeTrend(
  records: HistoryRecord[],
  settings: TrendSettings = DEFAULT_TREND_SETTINGS,
): TrendAnalysis {
  const series = new Map<string, { meta: Omit<MetricValue, 'value'>; points: MetricTrend['points'] }>();
  records.forEach((r, run) => {
    for (const m of metricsOf(r)) {
      const { value, ...meta } = m;
      const s = series.get(m.key) ?? { meta, points: [] };
      s.points.push({ run, value, commit: r.commit, date: r.date });
      series.set(m.key, s);
    }
  });
  const metrics = [...series.values()].map(({ meta, points }) => {
    const groups = trendGroups(
      points.map((p) => p.value),
      meta.better,
      settings,
    );
    const last = groups[groups.length - 1];
    return { ...meta, points, groups, regression: last?.anomaly === 'regression' };
  });
  return {
    runs: records.map((r) => ({ commit: r.commit, date: r.date, machine: r.machine.hostname })),
    metrics,
    settings,
    regressions: metrics.filter((m) => m.regression && m.gating),
    warnings: metrics.filter((m) => m.regression && !m.gating),
  };
}

/** jumpavg groups of one series, with direction-aware anomalies above the minimum change. */
export function trendGroups(values: number[], better: 'higher' | 'lower', s: TrendSettings): TrendGroup[] {
  if (values.length === 0) return [];
  const max = Math.max(...values.map(Math.abs));
  const groups = classify(values, { unit: max > 0 ? max * s.unitShare : 1, maxValue: max > 0 ? max : 1 });
  return groups.map((g, i) => {
    if (i === 0) return { ...g, change: null, anomaly: null };
    const prev = groups[i - 1].avg;
    const change = prev !== 0 ? (g.avg - prev) / Math.abs(prev) : g.avg === 0 ? 0 : Number.POSITIVE_INFINITY;
    const worse = better === 'higher' ? change < 0 : change > 0;
    const anomaly = Math.abs(change) < s.minRelativeChange ? null : worse ? 'regression' : 'progression';
    return { ...g, change, anomaly };
  });
}
