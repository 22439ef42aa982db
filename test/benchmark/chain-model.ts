/**
 * A model of a chain for the search tests: a knee (the highest rate forwarded without loss), above it the
 * excess is dropped; optional noisy trials (a small random loss below the knee, as a scheduling stall gives)
 * and an injector that cannot offer more than its own limit (those trials come back invalid).
 */
import { judgeTrial, type Measure, type Trial } from '../../src/benchmark/search.ts';
import { mulberry32 } from '../helpers/prng.ts';

export interface ChainModel {
  kneePps: number;
  /** probability that a trial below the knee loses a little anyway */
  noiseProbability?: number;
  /** loss ratio of such a noisy trial */
  noiseLossRatio?: number;
  /** the injector tops out here (trials above are stretched → invalid) */
  injectorLimitPps?: number;
  seed?: number;
}

export function modelMeasure(m: ChainModel): Measure & { calls: Trial[] } {
  const random = mulberry32(m.seed ?? 1);
  const calls: Trial[] = [];
  const measure = async (ratePps: number, durationS: number): Promise<Trial> => {
    const achievedPps = Math.min(ratePps, m.injectorLimitPps ?? Number.POSITIVE_INFINITY);
    const sent = Math.round(ratePps * durationS);
    const elapsedS = sent / achievedPps;
    let forwarded = Math.min(sent, Math.floor(m.kneePps * elapsedS));
    if (random() < (m.noiseProbability ?? 0))
      forwarded = Math.floor(forwarded * (1 - (m.noiseLossRatio ?? 0.001)));
    const base = { offeredPps: ratePps, durationS, achievedPps, elapsedS, sent, delivered: forwarded };
    const t = { ...base, ...judgeTrial(base) };
    calls.push(t);
    return t;
  };
  return Object.assign(measure, { calls });
}
