import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendHistory, type HistoryRecord, readHistory } from '../../src/benchmark/history.ts';
import { classify, groupBits, lnGamma, mergeStats, statsOf } from '../../src/benchmark/jumpavg.ts';
import { analyzeTrend, DEFAULT_TREND_SETTINGS, trendGroups } from '../../src/benchmark/trend.ts';
import { run as trend } from '../../src/cli/commands/trend.ts';
import { formatError } from '../../src/cli/errors.ts';
import { renderTrendHtml } from '../../src/report/trend-html.ts';
import { mulberry32 } from '../helpers/prng.ts';

const dir = mkdtempSync(join(tmpdir(), 'cp-trend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gaussian(seed: number): () => number {
  const r = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

async function captured(f: () => Promise<number>): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (s: string) => out.push(s);
  try {
    return { code: await f(), out: out.join('\n') };
  } finally {
    console.log = log;
  }
}

function record(i: number, ndr: number, p99Us = 500): HistoryRecord {
  return {
    schema: 'chainprobe-history',
    version: 1,
    commit: `c0ffee${i}`,
    date: new Date(Date.UTC(2026, 10, 1 + i)).toISOString(),
    machine: { hostname: 'ci', cpus: 2, loadAverage: 1 },
    profile: 'reference',
    sizes: [
      {
        payloadBytes: 100,
        ndrPps: ndr,
        pdrPps: ndr * 1.02,
        latency: { '50': { p50Ns: 100_000, p99Ns: p99Us * 1000 } },
      },
    ],
  };
}

describe('jumpavg (CSIT) building blocks', () => {
  it('merges populations like computing them at once', () => {
    const a = statsOf([1, 2, 3]);
    const b = statsOf([10, 20]);
    const all = statsOf([1, 2, 3, 10, 20]);
    const m = mergeStats(a, b);
    expect(m.size).toBe(5);
    expect(m.avg).toBeCloseTo(all.avg, 12);
    expect(m.stdev).toBeCloseTo(all.stdev, 12);
    expect(all.stdev).toBeCloseTo(
      Math.sqrt(((1 - 7.2) ** 2 + (2 - 7.2) ** 2 + (3 - 7.2) ** 2 + (10 - 7.2) ** 2 + (20 - 7.2) ** 2) / 5),
      12,
    );
  });
  it('lnGamma matches known values', () => {
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(10.5)).toBeCloseTo(13.940625219403763, 10);
  });
  it('a group of one costs its length and its average; more samples cost more bits', () => {
    const one = groupBits({ size: 1, avg: 50, stdev: 0 }, 100, 1, null);
    expect(one).toBeCloseTo(Math.log2(2) + Math.log2(101), 12);
    expect(groupBits(statsOf([50, 51, 49, 50]), 100, 1, null)).toBeGreaterThan(one);
  });
  it('one population stays one group; a clear jump makes two, labelled a regression', () => {
    const g = gaussian(3);
    const flat = Array.from({ length: 12 }, () => 1000 + 20 * g());
    expect(classify(flat)).toHaveLength(1);
    const jump = [...flat, ...Array.from({ length: 6 }, () => 700 + 20 * g())];
    const groups = classify(jump);
    expect(groups).toHaveLength(2);
    expect(groups[1]).toMatchObject({ start: 12, end: 17, label: 'regression' });
  });
});

describe('trend detection', () => {
  it('false alarms on an unchanged chain (10 runs, 8 % noise) stay below 3 %; a 40 % drop after 3 runs is caught', () => {
    const g = gaussian(11);
    const n = 1000;
    let falseAlarms = 0;
    let caught = 0;
    for (let k = 0; k < n; k++) {
      const runs = Array.from({ length: 10 }, () => 20_000 * (1 + 0.08 * g()));
      if (trendGroups(runs, 'higher', DEFAULT_TREND_SETTINGS).at(-1)!.anomaly === 'regression') falseAlarms++;
      const limited = [...runs.slice(0, 3), 12_000 * (1 + 0.08 * g())];
      if (trendGroups(limited, 'higher', DEFAULT_TREND_SETTINGS).at(-1)!.anomaly === 'regression') caught++;
    }
    console.log(
      `false alarms ${((100 * falseAlarms) / n).toFixed(1)} %, 40 % drop caught ${((100 * caught) / n).toFixed(1)} %`,
    );
    expect(falseAlarms / n).toBeLessThan(0.03);
    expect(caught / n).toBeGreaterThan(0.75);
  });

  it('latency is lower-is-better: a rise is its regression, informational (it does not fail the job)', () => {
    const records = [500, 510, 495, 505, 2000, 2100].map((p99, i) => record(i, 20_000, p99));
    const t = analyzeTrend(records);
    expect(t.warnings.map((m) => m.key)).toEqual(['latency-p99@50%/100B']);
    expect(t.regressions).toEqual([]);
  });

  it('recorded real runs (8000 B, this machine): 3 unchanged runs within the stated noise raise nothing; a 10mbit limit is flagged by name', async () => {
    // test/benchmark/fixtures/refchain-history.jsonl: four `chainprobe ndr --history` runs on the reference
    // chain (2 s final trials) on a shared 2-CPU VM at load average 10-20: NDR 780, 457, 392 pps unchanged
    // (the chain's userspace ESP shares the CPUs), then 143 pps with `chain fault --hop security --rate 10mbit`.
    const all = readHistory('test/benchmark/fixtures/refchain-history.jsonl');
    expect(all.map((r) => r.sizes[0].ndrPps)).toEqual([780, 457, 392, 143]);
    const first3 = join(dir, 'real-3.jsonl');
    for (const r of all.slice(0, 3)) appendHistory(first3, r);
    const quiet = await captured(() => trend([first3, '--min-change', '0.5']));
    expect(quiet.code, quiet.out).toBe(0);
    // at CSIT's sensitivity (no minimum change) this machine's noise alone is a "regression"
    expect((await captured(() => trend([first3, '--min-change', '0']))).code).toBe(1);
    const limited = await captured(() =>
      trend(['test/benchmark/fixtures/refchain-history.jsonl', '--min-change', '0.5']),
    );
    expect(limited.code).toBe(1);
    expect(limited.out).toMatch(/REGRESSION ndr\/8000B: NDR, 8000 B 425 → 143 pps \(-66\.3 %\)/);
    expect(limited.out).toMatch(/REGRESSION pdr\/8000B/);
  });

  it('the trend command exits 1 naming the regressed metric, writes a page with groups and thresholds', async () => {
    const history = join(dir, 'history.jsonl');
    for (const [i, v] of [20_100, 19_800, 20_300, 12_000].entries()) appendHistory(history, record(i, v));
    expect(readHistory(history)).toHaveLength(4);
    const { code, out } = await captured(() => trend([history, '--report', join(dir, 'page')]));
    expect(code).toBe(1);
    expect(out).toMatch(/REGRESSION ndr\/100B: NDR, 100 B/);
    const page = readFileSync(join(dir, 'page', 'index.html'), 'utf8');
    expect(page).toContain('REGRESSION');
    expect(page).toMatch(/jumpavg unit = 0\.1\d* %/);
    expect(page).toContain('5.0 %');
    expect(page).toMatch(/class="anomaly"/);
    expect(page).not.toMatch(/<script(?! type="application\/json")/);
  });

  it('an unchanged history exits 0', async () => {
    const history = join(dir, 'flat.jsonl');
    for (const [i, v] of [20_100, 19_800, 20_300, 20_050].entries()) appendHistory(history, record(i, v));
    expect(await trend([history, '--json', join(dir, 'flat.json')])).toBe(0);
    const html = renderTrendHtml(analyzeTrend(readHistory(history)));
    expect(html).toContain('OK');
  });

  it('bad input is a typed error and exit 2, naming the line and field', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify(record(0, 1000))}\n{"schema":"chainprobe-history","version":1}\n`);
    const e = await trend([bad]).catch((x: unknown) => x);
    expect(formatError(e).exitCode).toBe(2);
    expect(formatError(e).message).toMatch(/bad\.jsonl:2: .*commit/);
    expect(formatError(await trend([join(dir, 'missing.jsonl')]).catch((x: unknown) => x)).exitCode).toBe(2);
    expect(formatError(await trend(['--bogus']).catch((x: unknown) => x)).exitCode).toBe(2);
    expect(formatError(await trend([]).catch((x: unknown) => x)).exitCode).toBe(2);
  });
});
