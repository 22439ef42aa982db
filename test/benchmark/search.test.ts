import { describe, expect, it } from 'vitest';
import { classifyLoad, judgeTrial, searchNdrPdr, type Trial } from '../../src/benchmark/search.ts';
import { modelMeasure } from './chain-model.ts';

const GOALS = [
  { name: 'ndr', lossRatio: 0 },
  { name: 'pdr', lossRatio: 0.005 },
];
const base = { minLoadPps: 100, maxLoadPps: 100_000, finalTrialDurationS: 10, width: 0.05 };

function trial(durationS: number, lossRatio: number, valid = true): Trial {
  const sent = 1000 * durationS;
  return {
    offeredPps: 1000,
    durationS,
    achievedPps: 1000,
    elapsedS: durationS,
    sent,
    delivered: Math.round(sent * (1 - lossRatio)),
    lossRatio,
    valid,
  };
}

describe('RFC 9971 load classification', () => {
  const o = { fullDurationS: 10, durationSumS: 20, exceedRatio: 0.5 };
  it('one clean full-length trial makes a Lower Bound (the missing half may be high-loss)', () => {
    expect(classifyLoad([trial(10, 0)], 0, o)).toBe('lower');
  });
  it('one lossy full-length trial is Undecided; a second one makes an Upper Bound', () => {
    expect(classifyLoad([trial(10, 0.01)], 0, o)).toBe('undecided');
    expect(classifyLoad([trial(10, 0.01), trial(10, 0.02)], 0, o)).toBe('upper');
  });
  it('the exceed ratio tolerates one noisy trial in two', () => {
    expect(classifyLoad([trial(10, 0.001), trial(10, 0)], 0, o)).toBe('lower');
  });
  it('short trials alone never make a Lower Bound, but short losses tip a lossy load to Upper', () => {
    expect(classifyLoad([trial(1, 0), trial(1, 0)], 0, o)).toBe('undecided');
    expect(classifyLoad([trial(10, 0.01), trial(1, 0.01)], 0, o)).toBe('upper');
  });
  it('invalid trials are not classified at all', () => {
    expect(classifyLoad([trial(10, 0.5, false)], 0, o)).toBe('undecided');
  });
  it('loss within the goal loss ratio is low-loss (PDR)', () => {
    expect(classifyLoad([trial(10, 0.004)], 0.005, o)).toBe('lower');
  });
});

describe('trial validity', () => {
  it('an injector that fell short of the offered rate makes the trial invalid, with the reason', () => {
    const v = judgeTrial({
      offeredPps: 50_000,
      durationS: 2,
      achievedPps: 40_000,
      elapsedS: 2.5,
      sent: 100_000,
      delivered: 90_000,
    });
    expect(v.valid).toBe(false);
    expect(v.invalidReason).toMatch(/achieved 40000 pps of 50000/);
    expect(v.invalidReason).toMatch(/duration stretching/);
  });
  it('a sustained rate is valid even with loss', () => {
    const v = judgeTrial({
      offeredPps: 1000,
      durationS: 2,
      achievedPps: 999,
      elapsedS: 2.01,
      sent: 2000,
      delivered: 1900,
    });
    expect(v).toEqual({ valid: true, lossRatio: 0.05 });
  });
});

describe('NDR/PDR search over a model chain', () => {
  it('converges to a known knee within the goal width, PDR above NDR', async () => {
    const knee = 23_456;
    const r = await searchNdrPdr(modelMeasure({ kneePps: knee }), { goals: GOALS, ...base });
    const [ndr, pdr] = r.goals;
    expect(ndr.converged).toBe(true);
    expect(ndr.lowerPps!).toBeLessThanOrEqual(knee);
    expect(ndr.upperPps!).toBeGreaterThan(knee);
    expect((ndr.upperPps! - ndr.lowerPps!) / ndr.upperPps!).toBeLessThanOrEqual(0.05);
    const pdrKnee = knee / (1 - 0.005);
    expect(pdr.lowerPps!).toBeLessThanOrEqual(pdrKnee);
    expect(pdr.upperPps!).toBeGreaterThan(pdrKnee);
    expect(pdr.pps!).toBeGreaterThanOrEqual(ndr.pps!);
    // warm-up first, at Max Load, ignored; the final answers rest on full-length trials
    expect(r.trials[0]).toMatchObject({ phase: 'warmup', offeredPps: 100_000 });
    expect(
      r.trials.some((t) => t.phase === 'final' && t.offeredPps === ndr.lowerPps && t.durationS === 10),
    ).toBe(true);
    // most trials are short: the search costs short trials, full length only where it decides
    const full = r.trials.filter((t) => t.durationS === 10).length;
    expect(full).toBeLessThan(r.trials.length);
    expect(r.trialSecondsTotal).toBeLessThan(150);
  });

  it('reports lower and upper bounds of every goal with every trial', async () => {
    const r = await searchNdrPdr(modelMeasure({ kneePps: 5000 }), { goals: GOALS, ...base });
    for (const t of r.trials) expect(Object.keys(t.bounds).sort()).toEqual(['ndr', 'pdr']);
    const last = r.trials.at(-1)!;
    expect(last.bounds.ndr).toEqual({ lowerPps: r.goals[0].lowerPps, upperPps: r.goals[0].upperPps });
  });

  it('tolerates a noisy trial below the knee (exceed ratio)', async () => {
    const knee = 10_000;
    const clean = await searchNdrPdr(modelMeasure({ kneePps: knee }), { goals: GOALS, ...base });
    // the same chain, but the first full-length trial at the final lower bound loses 0.1 %
    const inner = modelMeasure({ kneePps: knee });
    let spoiled = false;
    const noisy = async (rate: number, d: number) => {
      const t = await inner(rate, d);
      if (!spoiled && d === 10 && rate === clean.goals[0].lowerPps) {
        spoiled = true;
        const delivered = Math.floor(t.sent * 0.999);
        return { ...t, delivered, lossRatio: (t.sent - delivered) / t.sent };
      }
      return t;
    };
    const r = await searchNdrPdr(noisy, { goals: GOALS, ...base });
    expect(spoiled).toBe(true);
    expect(r.goals[0].lowerPps).toBe(clean.goals[0].lowerPps);
  });

  it('with random noise (10 % of trials lose 0.1 %), NDR stays within 10 % of the knee in 19 of 20 seeds', async () => {
    const knee = 30_000;
    let good = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const r = await searchNdrPdr(modelMeasure({ kneePps: knee, noiseProbability: 0.1, seed }), {
        goals: GOALS,
        ...base,
      });
      const ndr = r.goals[0].pps!;
      if (ndr <= knee && ndr >= 0.9 * knee) good++;
      expect(r.goals[1].pps!).toBeGreaterThanOrEqual(ndr);
    }
    expect(good).toBeGreaterThanOrEqual(19);
  });

  it('an injector that cannot sustain Max Load gives invalid trials, never counted as chain loss', async () => {
    const knee = 20_000;
    const r = await searchNdrPdr(modelMeasure({ kneePps: knee, injectorLimitPps: 60_000 }), {
      goals: GOALS,
      ...base,
    });
    const invalid = r.trials.filter((t) => !t.valid);
    expect(invalid.length).toBeGreaterThan(0);
    for (const t of invalid) expect(t.invalidReason).toMatch(/injector achieved|stretching/);
    expect(r.injectorLimitPps).toBeLessThan(60_000);
    expect(r.goals[0].lowerPps!).toBeLessThanOrEqual(knee);
    expect(r.goals[0].lowerPps!).toBeGreaterThanOrEqual(knee * 0.95);
  });

  it('an injector stall at a load it sustained before does not lower Max Load', async () => {
    const knee = 20_000;
    const inner = modelMeasure({ kneePps: knee });
    const sustained = new Set<number>();
    let stalls = 0;
    const stalling = async (rate: number, d: number) => {
      const t = await inner(rate, d);
      // a load measured before, now twice stretched to half the rate (another process took the CPU)
      if (sustained.has(rate) && d === 10 && stalls < 2) {
        stalls++;
        return {
          ...t,
          achievedPps: rate / 2,
          elapsedS: 2 * d,
          valid: false,
          invalidReason: 'injector achieved half',
        };
      }
      sustained.add(rate);
      return t;
    };
    const r = await searchNdrPdr(stalling, { goals: GOALS, ...base });
    expect(stalls).toBe(2);
    expect(r.injectorLimitPps).toBeNull();
    expect(r.goals[0].lowerPps!).toBeLessThanOrEqual(knee);
    expect(r.goals[0].lowerPps!).toBeGreaterThanOrEqual(knee * 0.95);
  });

  it('a chain faster than the injector: NDR is met at the injector limit and says so', async () => {
    const r = await searchNdrPdr(modelMeasure({ kneePps: 80_000, injectorLimitPps: 30_000 }), {
      goals: GOALS,
      ...base,
    });
    expect(r.goals[0].upperPps).toBeNull();
    expect(r.goals[0].note).toMatch(/injector's limit/);
    expect(r.goals[0].pps!).toBeLessThanOrEqual(30_000);
  });

  it('a chain that loses even at Min Load: no NDR, and it says so', async () => {
    const r = await searchNdrPdr(modelMeasure({ kneePps: 50 }), { goals: GOALS, ...base });
    expect(r.goals[0].pps).toBeNull();
    expect(r.goals[0].note).toMatch(/Min Load/);
  });
});
