/**
 * jumpavg: grouping a series of benchmark runs into groups of constant average, after FD.io CSIT's
 * `resources/libraries/python/jumpavg` (classify.py, bit_counting_stats.py, avg_stdev_stats.py,
 * bit_counting_group_list.py; Apache-2.0, Cisco). Minimum description length: each group is coded as
 * samples of its own normal distribution (size, average relative to the previous group's, stdev, and the
 * samples on a sphere around the average); the partition with the fewest bits wins. A new group starts
 * only where describing the runs as two populations is cheaper than as one — a jump, not noise.
 *
 * The algorithm is CSIT's dynamic programme: for every prefix, the cheapest partition whose last group
 * is still open; O(n²) group extensions with O(1) stats merges.
 */

export interface AvgStdev {
  size: number;
  avg: number;
  /** population standard deviation */
  stdev: number;
}

/** Welford-style merge of two populations (avg_stdev_stats.py `for_runs`). */
export function mergeStats(a: AvgStdev, b: AvgStdev): AvgStdev {
  const size = a.size + b.size;
  if (size === 0) return { size: 0, avg: 0, stdev: 0 };
  const delta = b.avg - a.avg;
  const avg = a.avg + (delta * b.size) / size;
  const m2 =
    a.stdev * a.stdev * a.size + b.stdev * b.stdev * b.size + (delta * delta * a.size * b.size) / size;
  return { size, avg, stdev: Math.sqrt(Math.max(0, m2) / size) };
}

export function statsOf(values: readonly number[]): AvgStdev {
  return values.reduce<AvgStdev>((s, v) => mergeStats(s, { size: 1, avg: v, stdev: 0 }), {
    size: 0,
    avg: 0,
    stdev: 0,
  });
}

/**
 * Information content of one group in bits (bit_counting_stats.py): the sequence length, the average
 * (uniform on [0, max] for the first group, an "opposite triangle" around the previous group's average
 * after that), the stdev (uniform on [0, max]) and the samples on a (size−2)-sphere of radius stdev·√size.
 */
export function groupBits(s: AvgStdev, maxValue: number, unit: number, prevAvg: number | null): number {
  if (s.size < 1) return 0;
  if (!(maxValue > 0)) throw new RangeError(`jumpavg needs a positive maximal value, got ${maxValue}`);
  const max = maxValue / unit;
  const avg = s.avg / unit;
  let bits = Math.log2(s.size * (s.size + 1));
  if (prevAvg === null) bits += Math.log2(max + 1);
  else {
    const prev = prevAvg / unit;
    const norm = prev * prev - (prev - 1) * max + (max * max) / 2;
    bits -= Math.log2((Math.abs(avg - prev) + 1) / norm);
  }
  if (s.size < 2) return bits;
  const stdev = s.stdev / unit;
  bits += Math.log2(max + 1);
  let sphereLn = Math.LN2;
  sphereLn += Math.log(Math.PI) * ((s.size - 1) / 2);
  sphereLn -= lnGamma((s.size - 1) / 2);
  sphereLn += Math.log(stdev + 1) * (s.size - 2);
  sphereLn += Math.log(s.size) * ((s.size - 2) / 2);
  return bits + sphereLn / Math.LN2;
}

export type GroupLabel = 'normal' | 'regression' | 'progression';

export interface Group extends AvgStdev {
  /** index of the first and last run in the group */
  start: number;
  end: number;
  /** against the previous group, for a higher-is-better metric (classify.py's comment) */
  label: GroupLabel;
}

interface Partition {
  groups: { start: number; stats: AvgStdev }[];
  bitsExceptLast: number;
}

/**
 * Groups `values` (in run order) into constant-average groups. `unit` is the values' resolution (CSIT's
 * `unit`): the smaller, the more a new group costs relative to the noise it explains.
 */
export function classify(values: readonly number[], o: { unit?: number; maxValue?: number } = {}): Group[] {
  if (values.length === 0) return [];
  const maxValue = o.maxValue ?? Math.max(...values.map(Math.abs), Number.MIN_VALUE);
  const unit = o.unit ?? 1;
  const lastBits = (p: Partition) => {
    const last = p.groups[p.groups.length - 1];
    const prev = p.groups.length > 1 ? p.groups[p.groups.length - 2].stats.avg : null;
    return groupBits(last.stats, maxValue, unit, prev);
  };
  const bits = (p: Partition) => (p.groups.length ? p.bitsExceptLast + lastBits(p) : 0);

  const closedBefore: Partition[] = [{ groups: [], bitsExceptLast: 0 }];
  const openAt: Partition[] = [];
  values.forEach((value, index) => {
    const single: AvgStdev = { size: 1, avg: value, stdev: 0 };
    const base = closedBefore[index];
    const newlyOpen: Partition = {
      groups: [...base.groups, { start: index, stats: single }],
      bitsExceptLast: bits(base),
    };
    openAt.push(newlyOpen);
    let record = newlyOpen;
    let recordBits = bits(newlyOpen);
    for (let j = 0; j < index; j++) {
      const old = openAt[j];
      const last = old.groups[old.groups.length - 1];
      const extended: Partition = {
        groups: [...old.groups.slice(0, -1), { start: last.start, stats: mergeStats(last.stats, single) }],
        bitsExceptLast: old.bitsExceptLast,
      };
      openAt[j] = extended;
      const b = bits(extended);
      if (b < recordBits) {
        record = extended;
        recordBits = b;
      }
    }
    closedBefore.push(record);
  });
  const partition = closedBefore[values.length];
  let previous = partition.groups[0].stats.avg;
  return partition.groups.map((g, i) => {
    const end = i + 1 < partition.groups.length ? partition.groups[i + 1].start - 1 : values.length - 1;
    const label: GroupLabel =
      g.stats.avg === previous ? 'normal' : g.stats.avg < previous ? 'regression' : 'progression';
    previous = g.stats.avg;
    return { ...g.stats, start: g.start, end, label };
  });
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}
