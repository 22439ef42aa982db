/**
 * The `ndr` command's offline parts: bad input is exit 2 before anything starts, the results document of a
 * search over the model chain renders into a self-contained page that shows bounds, invalid trials and
 * latency "not evaluated" when there is nothing to evaluate, and the history record carries the figures.
 */
import { describe, expect, it } from 'vitest';
import { historyRecordFromNdr, historyRecordSchema, metricsOf } from '../../src/benchmark/history.ts';
import type { NdrDocument } from '../../src/benchmark/ndr.ts';
import { searchNdrPdr } from '../../src/benchmark/search.ts';
import { durationOption, run as ndr } from '../../src/cli/commands/ndr.ts';
import { formatError } from '../../src/cli/errors.ts';
import { renderNdrHtml } from '../../src/report/ndr-html.ts';
import type { LatencySummary } from '../../src/report/results.ts';
import { modelMeasure } from './chain-model.ts';

const exitOf = async (args: string[]) => {
  try {
    return await ndr(args);
  } catch (e) {
    return formatError(e).exitCode;
  }
};

describe('ndr command input', () => {
  it.each([
    [['--size', '100']],
    [['--profile', 'fixtures/reference.json', '--size', 'big']],
    [['--profile', 'fixtures/reference.json', '--loss', '0.01,0']],
    [['--profile', 'fixtures/reference.json', '--loss', '0']],
    [['--profile', 'fixtures/reference.json', '--final-trial', 'ten']],
    [['--profile', 'fixtures/reference.json', '--final-trial', '1s', '--initial-trial', '2s']],
    [['--profile', 'fixtures/reference.json', '--min-rate', '5000', '--max-rate', '100']],
    [['--profile', 'fixtures/reference.json', '--inject', 'carrier-pigeon']],
    [['--profile', 'fixtures/no-such-profile.json']],
    [['--bogus']],
  ])('%j → exit 2', async (args) => {
    expect(await exitOf(args)).toBe(2);
  });
  it('durations: 10s, 2.5s, 500ms, bare seconds', () => {
    expect(durationOption('--x', '10s')).toBe(10);
    expect(durationOption('--x', '2.5s')).toBe(2.5);
    expect(durationOption('--x', '500ms')).toBe(0.5);
    expect(durationOption('--x', '3')).toBe(3);
  });
});

function latency(p50Ns: number): LatencySummary {
  return {
    samples: 1000,
    p50Ns,
    p90Ns: p50Ns * 2,
    p99Ns: p50Ns * 4,
    p999Ns: null,
    minNs: 1,
    maxNs: p50Ns * 9,
    meanNs: p50Ns,
    histogram: [],
    note: '1000 samples: too few for p99.9',
  };
}

async function modelDocument(): Promise<NdrDocument> {
  const search = await searchNdrPdr(modelMeasure({ kneePps: 20_000, injectorLimitPps: 50_000 }), {
    goals: [
      { name: 'ndr', lossRatio: 0 },
      { name: 'pdr', lossRatio: 0.005 },
    ],
    minLoadPps: 100,
    maxLoadPps: 100_000,
    finalTrialDurationS: 10,
  });
  const rate = (i: number) => ({ ...search.goals[i], pps: search.goals[i].pps });
  return {
    schemaVersion: 1,
    tool: { name: 'chainprobe', version: 'test' },
    startedAt: '2026-11-30T00:00:00.000Z',
    profile: 'model',
    injector: 'l2',
    machine: { hostname: 'm', cpus: 2, loadAverage: 0.5 },
    settings: {
      minLoadPps: 100,
      maxLoadPps: 100_000,
      finalTrialDurationS: 10,
      lossRatios: [0, 0.005],
      latencyTrialS: 10,
    },
    sizes: [
      {
        payloadBytes: 100,
        ndr: rate(0),
        pdr: rate(1),
        latency: {
          '10': {
            offeredPps: 2000,
            sent: 20_000,
            delivered: 20_000,
            e2e: latency(50_000),
            perHop: [{ from: 'ingress', to: 'delivered', latency: latency(40_000) }],
          },
        },
        trials: search.trials,
        injectorLimitPps: search.injectorLimitPps,
        tookS: 100,
      },
      {
        payloadBytes: 8000,
        ndr: { ...rate(0), pps: null, lowerPps: null, note: 'not met even at Min Load (100 pps)' },
        pdr: { ...rate(1), pps: null, lowerPps: null },
        latency: {},
        trials: [],
        injectorLimitPps: null,
        tookS: 5,
      },
    ],
    tookS: 105,
  };
}

describe('NDR page and history record', () => {
  it('renders bounds, invalid trials with their reason, latency, and "not evaluated"', async () => {
    const doc = await modelDocument();
    const page = renderNdrHtml(doc);
    const ndr = doc.sizes[0].ndr;
    expect(page).toContain(
      `${ndr.lowerPps!.toLocaleString('en-US')} … ${ndr.upperPps!.toLocaleString('en-US')}`,
    );
    expect(page).toMatch(/<b>invalid<\/b>: injector achieved/);
    expect(page).toContain('50.0 µs / 100.0 µs / 200.0 µs / n/a');
    expect(page).toContain('ingress→delivered p50 / p99');
    expect(page).toContain('not evaluated: there is no PDR');
    expect(page).toContain('not met even at Min Load');
    expect(page).toMatch(/<svg class="svg-chart"/);
    // self-contained: nothing fetched, no executable script
    expect(page).not.toMatch(/<script(?! type="application\/json")/);
    expect(page).not.toMatch(/(src|href)="https?:/);
  });

  it('the history record carries NDR, PDR and latency at load, and flattens to trend metrics', async () => {
    const rec = historyRecordFromNdr(await modelDocument(), { commit: 'abc' });
    expect(historyRecordSchema.safeParse(rec).success).toBe(true);
    const keys = metricsOf(rec).map((m) => m.key);
    expect(keys).toEqual([
      'ndr/100B@10s',
      'pdr/100B@10s',
      'latency-p50@10%/100B@10s',
      'latency-p99@10%/100B@10s',
    ]);
    expect(metricsOf(rec)[2]).toMatchObject({ unit: 'µs', better: 'lower', value: 50 });
  });
});
