/**
 * NDR / PDR search in the manner of MLRsearch (RFC 9971, "Multiple Loss Ratio Search"; FD.io CSIT's
 * implementation), as a pure function over an injected `measure(ratePps, durationS) → Trial`.
 *
 * Terms are RFC 9971's:
 *   - Trial Load / Trial Duration: the offered rate and intended length of one trial; Trial Loss Ratio:
 *     (sent − delivered) / sent.
 *   - Search Goal: one Goal Loss Ratio (NDR 0, PDR 0.005) with Goal Final Trial Duration, Goal Duration Sum,
 *     Goal Exceed Ratio, Goal Width, Goal Initial Trial Duration.
 *   - A trial is Low-Loss for a goal when its loss ratio ≤ the Goal Loss Ratio, else High-Loss; Full-Length
 *     when it lasted at least the Goal Final Trial Duration, else Short.
 *   - Load Classification: a load is an Upper Bound when even the optimistic share of high-loss duration
 *     exceeds the Goal Exceed Ratio, a Lower Bound when even the pessimistic share does not (missing duration
 *     counted as high-loss), else Undecided. The exceed ratio is what lets one noisy trial pass.
 *   - Relevant Upper Bound: the smallest Upper Bound; Relevant Lower Bound: the largest Lower Bound below it.
 *     The goal is met when their relative distance is within the Goal Width.
 *   - Max Load / Min Load: the search never offers more or less.
 *
 * Phases (as CSIT): a warm-up trial at Max Load, ignored (it primes ARP, conntrack, SAs and queues); an
 * initial trial at Max Load whose forwarding rate (delivered / duration, the "MRR") is the first guess below;
 * intermediate phases of short trials at a wider width; the final phase at the full trial duration and the
 * goal width. Loads learned with short trials are re-measured at full length only where the final phase needs
 * them, so most of the search costs short trials.
 *
 * A trial the injector could not sustain (achieved rate below `minAchievedRatio` × offered, or sending took
 * longer than the trial duration by more than `maxStretchRatio`: TRex's "duration stretching") is invalid: it
 * is recorded and said so, never classified, and never counted as the chain's loss. Two invalid trials at a
 * load lower Max Load to what the injector achieved there.
 */

export interface Trial {
  /** Trial Load: the rate asked of the injector (pps) */
  offeredPps: number;
  /** Trial Duration asked (s) */
  durationS: number;
  /** the rate the injector achieved (pps), from the sender's clock or the first capture point */
  achievedPps: number;
  /** how long sending actually took (s) */
  elapsedS: number;
  sent: number;
  delivered: number;
  /** Trial Loss Ratio: (sent − delivered) / sent */
  lossRatio: number;
  /** false when the injector could not sustain the offered rate, or the measurement was unusable */
  valid: boolean;
  invalidReason?: string;
  /** measurer's own identification (e.g. the probe run id) */
  runId?: number;
}

export type Measure = (ratePps: number, durationS: number) => Promise<Trial>;

export interface SearchGoal {
  /** e.g. "ndr", "pdr" */
  name: string;
  /** Goal Loss Ratio */
  lossRatio: number;
}

export interface SearchConfig {
  goals: SearchGoal[];
  /** Min Load, Max Load (pps) */
  minLoadPps: number;
  maxLoadPps: number;
  /** Goal Final Trial Duration (s) */
  finalTrialDurationS: number;
  /** Goal Duration Sum (s); default 2 × the final trial duration, so one of two trials may be noisy */
  durationSumS?: number;
  /** Goal Initial Trial Duration (s): the short trials of the intermediate phase; default 1 */
  initialTrialDurationS?: number;
  /** Goal Exceed Ratio; default 0.5 */
  exceedRatio?: number;
  /** Goal Width, relative ((upper − lower) / upper); default 0.05 */
  width?: number;
  /** the intermediate phase's width is this many times the goal width; default 4 */
  intermediateWidthFactor?: number;
  /** trial budget; the search stops (and says so) beyond it; default 60 */
  maxTrials?: number;
  /** called after every trial (progress lines) */
  onTrial?: (t: RecordedTrial) => void;
}

export type Phase = 'warmup' | 'initial' | 'intermediate' | 'final';

export interface Bounds {
  lowerPps: number | null;
  upperPps: number | null;
}

export interface RecordedTrial extends Trial {
  index: number;
  phase: Phase;
  /** the Relevant Lower / Upper Bound of every goal after this trial, in this trial's phase */
  bounds: Record<string, Bounds>;
}

export interface GoalResult {
  name: string;
  lossRatio: number;
  /** the Relevant Lower Bound: the highest load that meets the goal; null if not even Min Load does */
  pps: number | null;
  lowerPps: number | null;
  /** the Relevant Upper Bound; null if Max Load itself meets the goal */
  upperPps: number | null;
  /** reached the goal width (or a load limit) */
  converged: boolean;
  note?: string;
}

export interface SearchResult {
  goals: GoalResult[];
  trials: RecordedTrial[];
  /** sum of trial durations asked (s) */
  trialSecondsTotal: number;
  /** Max Load lowered to what the injector sustained, when it could not sustain the configured one */
  injectorLimitPps: number | null;
  settings: Required<Omit<SearchConfig, 'onTrial' | 'goals'>>;
}

export type LoadClass = 'lower' | 'upper' | 'undecided';

/** Trial validity: did the injector deliver the trial it was asked for? */
export function judgeTrial(
  t: Omit<Trial, 'valid' | 'invalidReason' | 'lossRatio'>,
  o: { minAchievedRatio?: number; maxStretchRatio?: number } = {},
): Pick<Trial, 'valid' | 'invalidReason' | 'lossRatio'> {
  const minAchieved = o.minAchievedRatio ?? 0.95;
  const maxStretch = o.maxStretchRatio ?? 1.05;
  const lossRatio = t.sent > 0 ? Math.max(0, t.sent - t.delivered) / t.sent : 0;
  const reasons: string[] = [];
  if (t.sent === 0) reasons.push('nothing was sent');
  if (t.achievedPps < minAchieved * t.offeredPps)
    reasons.push(
      `injector achieved ${Math.round(t.achievedPps)} pps of ${Math.round(t.offeredPps)} offered (< ${minAchieved * 100} %)`,
    );
  // A fixed 100 ms of slack: start-up of a sub-second trial is not stretching.
  if (t.elapsedS > t.durationS * maxStretch + 0.1)
    reasons.push(
      `sending took ${t.elapsedS.toFixed(2)} s for a ${t.durationS} s trial (duration stretching)`,
    );
  return reasons.length
    ? { valid: false, invalidReason: reasons.join('; '), lossRatio }
    : { valid: true, lossRatio };
}

/**
 * RFC 9971 load classification of one load for one goal from the valid trials at that load. Short trials
 * count too: their high-loss duration, beyond what their low-loss duration balances at the exceed ratio,
 * adds to the high-loss sum (so a load that fails short trials repeatedly can become an Upper Bound).
 */
export function classifyLoad(
  trials: readonly Trial[],
  goalLossRatio: number,
  o: { fullDurationS: number; durationSumS: number; exceedRatio: number },
): LoadClass {
  let fullLow = 0;
  let fullHigh = 0;
  let shortLow = 0;
  let shortHigh = 0;
  for (const t of trials) {
    if (!t.valid) continue;
    const full = t.durationS >= o.fullDurationS * 0.999;
    const high = t.lossRatio > goalLossRatio;
    if (full) high ? (fullHigh += t.durationS) : (fullLow += t.durationS);
    else high ? (shortHigh += t.durationS) : (shortLow += t.durationS);
  }
  const balancing = o.exceedRatio < 1 ? (shortLow * o.exceedRatio) / (1 - o.exceedRatio) : shortLow;
  const effectiveHigh = fullHigh + Math.max(0, shortHigh - balancing);
  const effectiveFull = fullLow + effectiveHigh;
  const missing = Math.max(0, o.durationSumS - effectiveFull);
  const denominator = Math.max(o.durationSumS, effectiveFull);
  const optimisticExceed = effectiveHigh / denominator;
  const pessimisticExceed = (effectiveHigh + missing) / denominator;
  if (optimisticExceed > o.exceedRatio) return 'upper';
  if (pessimisticExceed <= o.exceedRatio) return 'lower';
  return 'undecided';
}

interface PhaseGoal {
  phase: Phase;
  fullDurationS: number;
  durationSumS: number;
  width: number;
}

export async function searchNdrPdr(measure: Measure, config: SearchConfig): Promise<SearchResult> {
  const settings = {
    minLoadPps: config.minLoadPps,
    maxLoadPps: config.maxLoadPps,
    finalTrialDurationS: config.finalTrialDurationS,
    durationSumS: config.durationSumS ?? 2 * config.finalTrialDurationS,
    initialTrialDurationS: Math.min(config.initialTrialDurationS ?? 1, config.finalTrialDurationS),
    exceedRatio: config.exceedRatio ?? 0.5,
    width: config.width ?? 0.05,
    intermediateWidthFactor: config.intermediateWidthFactor ?? 4,
    maxTrials: config.maxTrials ?? 60,
  };
  if (!(settings.minLoadPps > 0 && settings.maxLoadPps >= settings.minLoadPps))
    throw new RangeError(
      `search loads must satisfy 0 < min (${settings.minLoadPps}) <= max (${settings.maxLoadPps})`,
    );
  if (config.goals.length === 0) throw new RangeError('at least one search goal is needed');

  const phases: PhaseGoal[] = [
    {
      phase: 'intermediate',
      fullDurationS: settings.initialTrialDurationS,
      durationSumS: settings.initialTrialDurationS,
      width: settings.width * settings.intermediateWidthFactor,
    },
    {
      phase: 'final',
      fullDurationS: settings.finalTrialDurationS,
      durationSumS: settings.durationSumS,
      width: settings.width,
    },
  ];
  const trials: RecordedTrial[] = [];
  const byLoad = new Map<number, Trial[]>();
  const invalidAt = new Map<number, Trial[]>();
  let maxLoad = Math.round(settings.maxLoadPps);
  const minLoad = Math.round(settings.minLoadPps);
  let injectorLimitPps: number | null = null;
  let budgetExhausted = false;

  const boundsOf = (p: PhaseGoal, lossRatio: number) =>
    relevantBounds(byLoad, lossRatio, p, settings.exceedRatio);
  const run = async (load: number, durationS: number, phase: Phase, p: PhaseGoal): Promise<Trial> => {
    const t = await measure(load, durationS);
    if (t.valid) {
      if (phase !== 'warmup') byLoad.set(load, [...(byLoad.get(load) ?? []), t]);
    } else {
      const bad = [...(invalidAt.get(load) ?? []), t];
      invalidAt.set(load, bad);
      // The injector cannot offer this load (it never has): measure below what it achieved. A load it
      // sustained before had a stall, not a limit.
      if ((bad.length >= 2 || phase === 'warmup') && !byLoad.has(load)) {
        const achieved = Math.max(...bad.map((b) => b.achievedPps));
        const limit = Math.max(minLoad, Math.floor(Math.min(load - 1, achieved * 0.95)));
        if (limit < maxLoad) {
          maxLoad = limit;
          injectorLimitPps = limit;
        }
      }
    }
    const recorded: RecordedTrial = {
      ...t,
      index: trials.length,
      phase,
      bounds: Object.fromEntries(config.goals.map((g) => [g.name, boundsOf(p, g.lossRatio)])),
    };
    trials.push(recorded);
    config.onTrial?.(recorded);
    return t;
  };

  // Warm-up at Max Load (ignored), then the initial trial at Max Load: its forwarding rate is the first guess.
  await run(maxLoad, settings.initialTrialDurationS, 'warmup', phases[0]);
  let initial = await run(maxLoad, settings.initialTrialDurationS, 'initial', phases[0]);
  for (let retry = 0; !initial.valid && retry < 3 && trials.length < settings.maxTrials; retry++)
    initial = await run(maxLoad, settings.initialTrialDurationS, 'initial', phases[0]);
  const guess = initial.valid ? Math.floor(initial.delivered / Math.max(initial.durationS, 1e-9)) : null;

  let hints = new Map(config.goals.map((g) => [g.name, guess ?? maxLoad]));
  for (const p of phases) {
    const expansions = new Map<string, number>();
    for (;;) {
      if (trials.length >= settings.maxTrials) {
        budgetExhausted = true;
        break;
      }
      let next: { load: number; durationS: number } | null = null;
      for (const g of config.goals) {
        const step = nextLoad(byLoad, g.lossRatio, p, settings.exceedRatio, minLoad, maxLoad, {
          guess: p.phase === 'intermediate' ? guess : null,
          hint: hints.get(g.name) ?? maxLoad,
          expansions: expansions.get(g.name) ?? 0,
          shortDurationS: settings.initialTrialDurationS,
        });
        if (step === null) continue;
        expansions.set(g.name, step.expanding ? (expansions.get(g.name) ?? 0) + 1 : 0);
        next = step;
        break;
      }
      if (next === null) break;
      await run(next.load, next.durationS, p.phase, p);
    }
    if (budgetExhausted) break;
    // The next phase starts where this one ended: its Undecided loads nearest this lower bound first.
    hints = new Map(
      config.goals.map((g) => [g.name, boundsOf(p, g.lossRatio).lowerPps ?? hints.get(g.name) ?? maxLoad]),
    );
  }

  const final = phases[phases.length - 1];
  const goals: GoalResult[] = config.goals.map((g) => {
    const b = boundsOf(final, g.lossRatio);
    const notes: string[] = [];
    let converged = false;
    if (b.lowerPps !== null && b.upperPps !== null)
      converged = (b.upperPps - b.lowerPps) / b.upperPps <= final.width + 1e-12;
    if (!converged && b.lowerPps !== null && b.lowerPps >= maxLoad) {
      converged = true;
      notes.push(
        injectorLimitPps !== null
          ? `met at the injector's limit (${injectorLimitPps} pps): the chain's capacity may be higher`
          : `met at Max Load (${maxLoad} pps): the chain's capacity may be higher`,
      );
    }
    if (b.lowerPps === null && b.upperPps !== null && b.upperPps <= minLoad) {
      converged = true;
      notes.push(`not met even at Min Load (${minLoad} pps)`);
    }
    if (budgetExhausted) notes.push(`trial budget (${settings.maxTrials}) exhausted before the goal width`);
    return {
      name: g.name,
      lossRatio: g.lossRatio,
      pps: b.lowerPps,
      lowerPps: b.lowerPps,
      upperPps: b.upperPps,
      converged,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  });
  return {
    goals,
    trials,
    trialSecondsTotal: trials.reduce((s, t) => s + t.durationS, 0),
    injectorLimitPps,
    settings,
  };
}

const SHORT_PROBE: Trial = {
  offeredPps: 0,
  durationS: 0,
  achievedPps: 0,
  elapsedS: 0,
  sent: 1,
  delivered: 0,
  lossRatio: 1,
  valid: true,
};

function classes(
  byLoad: ReadonlyMap<number, Trial[]>,
  lossRatio: number,
  p: PhaseGoal,
  exceedRatio: number,
): { load: number; cls: LoadClass }[] {
  return [...byLoad.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([load, ts]) => ({
      load,
      cls: classifyLoad(ts, lossRatio, {
        fullDurationS: p.fullDurationS,
        durationSumS: p.durationSumS,
        exceedRatio,
      }),
    }));
}

function relevantBounds(
  byLoad: ReadonlyMap<number, Trial[]>,
  lossRatio: number,
  p: PhaseGoal,
  exceedRatio: number,
): Bounds {
  const all = classes(byLoad, lossRatio, p, exceedRatio);
  const upper = all.find((c) => c.cls === 'upper')?.load ?? null;
  const lower =
    all.filter((c) => c.cls === 'lower' && (upper === null || c.load < upper)).pop()?.load ?? null;
  return { lowerPps: lower, upperPps: upper };
}

/** The next load this goal needs in this phase, or null when the phase's goal is met for it. */
function nextLoad(
  byLoad: ReadonlyMap<number, Trial[]>,
  lossRatio: number,
  p: PhaseGoal,
  exceedRatio: number,
  minLoad: number,
  maxLoad: number,
  o: { guess: number | null; hint: number; expansions: number; shortDurationS: number },
): { load: number; durationS: number; expanding: boolean } | null {
  const all = classes(byLoad, lossRatio, p, exceedRatio);
  const { lowerPps: lower, upperPps: upper } = relevantBounds(byLoad, lossRatio, p, exceedRatio);
  // An Undecided load between the bounds needs more trials before anything else (the exceed ratio at work).
  const undecided = all.filter(
    (c) => c.cls === 'undecided' && (lower === null || c.load > lower) && (upper === null || c.load < upper),
  );
  // The one nearest the hint (the previous phase's lower bound): that is where the answer is decided.
  if (undecided.length) {
    undecided.sort((a, b) => Math.abs(a.load - o.hint) - Math.abs(b.load - o.hint));
    const load = undecided[0].load;
    // A short trial suffices when one more high-loss short trial would make it an Upper Bound.
    const shortHigh: Trial = {
      ...SHORT_PROBE,
      durationS: o.shortDurationS,
      lossRatio: 1,
    };
    const opts = { fullDurationS: p.fullDurationS, durationSumS: p.durationSumS, exceedRatio };
    const short = classifyLoad([...(byLoad.get(load) ?? []), shortHigh], lossRatio, opts) === 'upper';
    return { load, durationS: short ? o.shortDurationS : p.fullDurationS, expanding: false };
  }
  const step = p.width * 2 ** o.expansions;
  if (upper === null) {
    if (lower === null) return { load: maxLoad, durationS: p.fullDurationS, expanding: false };
    if (lower >= maxLoad) return null;
    return {
      load: Math.min(maxLoad, Math.ceil(lower * (1 + step))),
      durationS: p.fullDurationS,
      expanding: true,
    };
  }
  if (lower === null) {
    if (upper <= minLoad) return null;
    let load = Math.floor(upper * (1 - step));
    // First descent from an Upper Bound: jump to the forwarding rate seen at Max Load if that is lower.
    if (o.guess !== null && o.expansions === 0 && o.guess < load) load = o.guess;
    return { load: Math.max(minLoad, load), durationS: p.fullDurationS, expanding: true };
  }
  if ((upper - lower) / upper <= p.width) return null;
  // Loads the injector cannot offer stay unmeasured: met at Max Load, as far as can be told.
  if (lower >= maxLoad) return null;
  const mid = Math.min(maxLoad, Math.round((lower + upper) / 2));
  if (mid <= lower || mid >= upper) return null;
  return { load: mid, durationS: p.fullDurationS, expanding: false };
}
