/**
 * vitest matchers over a run's results. Every failure message shows the hop funnel and names the
 * segment where probes vanished, because "delivery 61 %" alone does not tell an operator where to look.
 *
 *   import 'chainprobe/vitest';            // registers the matchers
 *   expect(run).toDeliverAtLeast(0.9);
 *   expect(run).toPreserveSourceIp();
 *   expect(run).toFragmentWithin(1400);
 *   expect(run).toLoseNothingBetween('decap', 'wire');
 *   expect(run).toHaveLatency({ p99: '5ms' });
 *   expect(run).toBlameHop('security');     // for fault suites: the harness must be able to fail
 */
import { expect } from 'vitest';
import { checkMark } from '../report/format.ts';
import { funnel, percent as pct } from '../report/funnel.ts';
import type { Check, LatencySummary, RunResults, ViolationSummary } from '../report/results.ts';

type Resultish = RunResults | { results: RunResults };
const resultsOf = (r: Resultish): RunResults => ('results' in r ? r.results : r);

const checkNamed = (r: RunResults, name: string): Check | undefined => r.checks.find((c) => c.name === name);
/** "source IP preserved: not evaluated: no probe was seen after the NAT", for messages. */
const unjudged = (c: Check | undefined) => (c?.status === 'not-evaluated' ? `${c.name}: ${c.detail}` : null);

function violationText(name: string, v: ViolationSummary): string {
  const ex = v.examples[0];
  return ex
    ? `${v.violations} of ${v.checked} probes violated ${name}; first at ${ex.capture} (probe ${ex.probe.flowId}/${ex.probe.seq}): ${ex.reason}\n${ex.layers.map((l) => `    ${l}`).join('\n')}`
    : `${v.violations} of ${v.checked} probes violated ${name}`;
}

/** "5ms", "250us", "250µs", "1s", "800ns" or a number of ns. */
export function parseDurationNs(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*([\d.]+)\s*(ns|us|µs|ms|s)\s*$/.exec(v);
  if (!m) throw new TypeError(`not a duration: "${v}" (use e.g. "5ms", "250us", "1s")`);
  return Number(m[1]) * { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns']!;
}

const fmtNs = (ns: number | null) =>
  ns === null ? 'n/a' : ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`;

export const chainMatchers = {
  toDeliverAtLeast(received: Resultish, ratio: number) {
    const r = resultsOf(received);
    const pass = r.sent > 0 && r.deliveryRatio >= ratio;
    const where = r.faultySegment
      ? `\nprobes vanished mostly between ${r.faultySegment.from} and ${r.faultySegment.to} (hop "${r.faultyHop}")`
      : '';
    return {
      pass,
      message: () =>
        r.sent === 0
          ? `expected delivery of at least ${pct(ratio)}, but ${unjudged(checkNamed(r, 'delivery')) ?? 'no probe was sent'}\n${funnel(r)}`
          : `expected delivery ${pass ? 'below' : 'of at least'} ${pct(ratio)}, got ${pct(r.deliveryRatio)} (Wilson ${pct(r.deliveryInterval.low)}–${pct(r.deliveryInterval.high)})${where}\n${funnel(r)}`,
      actual: r.deliveryRatio,
      expected: ratio,
    };
  },

  toPreserveSourceIp(received: Resultish) {
    const r = resultsOf(received);
    const check = checkNamed(r, 'source IP preserved');
    const pass = check ? check.status === 'pass' : r.sourceIp.checked > 0 && r.sourceIp.violations === 0;
    return {
      pass,
      message: () =>
        unjudged(check) ??
        (r.sourceIp.checked === 0
          ? 'no probes were checked for their source IP'
          : violationText('source-IP preservation', r.sourceIp)),
      actual: r.sourceIp.violations,
      expected: 0,
    };
  },

  toFragmentWithin(received: Resultish, mtuBytes: number) {
    const r = resultsOf(received);
    const f = r.fragmentation;
    const pass =
      f.violations === 0 &&
      f.maxFragmentBytes !== null &&
      f.maxFragmentBytes <= mtuBytes &&
      f.reassembled > 0;
    return {
      pass,
      message: () =>
        f.reassembled === 0
          ? `expected fragmented probes (MTU ${mtuBytes}), but none were reassembled — were jumbo payloads sent?`
          : `largest fragment ${f.maxFragmentBytes} B (limit ${mtuBytes}), ${f.reassembled} datagrams reassembled; ${violationText('fragmentation', f)}`,
      actual: f.maxFragmentBytes,
      expected: mtuBytes,
    };
  },

  toLoseNothingBetween(received: Resultish, from: string, to: string) {
    const r = resultsOf(received);
    const i = r.hops.findIndex((h) => h.name === from);
    const j = r.hops.findIndex((h) => h.name === to);
    if (i < 0 || j < 0 || j <= i) {
      return {
        pass: false,
        message: () =>
          `capture points "${from}" → "${to}" are not in chain order (${r.hops.map((h) => h.name).join(' → ')})`,
      };
    }
    const lost = r.hops.slice(i + 1, j + 1).reduce((s, h) => s + h.lostHere, 0);
    return {
      pass: lost === 0,
      message: () =>
        `expected no loss between ${from} and ${to}, ${lost} probes vanished there\n${funnel(r)}`,
      actual: lost,
      expected: 0,
    };
  },

  toHaveLatency(
    received: Resultish,
    bounds: Partial<Record<'p50' | 'p90' | 'p99' | 'p999' | 'max', string | number>>,
    between?: { from: string; to: string },
  ) {
    const r = resultsOf(received);
    let l: LatencySummary | undefined = r.latency.e2e;
    if (between) l = r.latency.perHop.find((h) => h.from === between.from && h.to === between.to)?.latency;
    if (!l) return { pass: false, message: () => `no latency between ${between?.from} and ${between?.to}` };
    const field = { p50: 'p50Ns', p90: 'p90Ns', p99: 'p99Ns', p999: 'p999Ns', max: 'maxNs' } as const;
    const problems: string[] = [];
    for (const [k, v] of Object.entries(bounds)) {
      const got = l[field[k as keyof typeof field]];
      const limit = parseDurationNs(v!);
      if (got === null) problems.push(`${k}: not measurable (${l.note ?? `${l.samples} samples`})`);
      else if (got > limit) problems.push(`${k} ${fmtNs(got)} > ${fmtNs(limit)}`);
    }
    const pair = between
      ? r.latency.perHop.find((h) => h.from === between.from && h.to === between.to)
      : null;
    const scope = pair ? `${pair.from}→${pair.to} (hop "${pair.hop}")` : 'end to end';
    // End to end over the bound: name the pair of capture points (and its hop) with the largest p99.
    const worst = between
      ? null
      : r.latency.perHop.reduce<RunResults['latency']['perHop'][number] | null>(
          (b, h) => (h.latency.p99Ns !== null && (!b || h.latency.p99Ns > (b.latency.p99Ns ?? 0)) ? h : b),
          null,
        );
    const where = worst
      ? `; slowest segment ${worst.from}→${worst.to} (hop "${worst.hop}", p99 ${fmtNs(worst.latency.p99Ns)})`
      : '';
    return {
      pass: problems.length === 0,
      message: () =>
        problems.length
          ? `latency ${scope}: ${problems.join('; ')} (p50 ${fmtNs(l.p50Ns)}, p99 ${fmtNs(l.p99Ns)}, max ${fmtNs(l.maxNs)}, ${l.samples} samples)${where}`
          : `expected latency ${scope} to exceed the bounds, but p99 was ${fmtNs(l.p99Ns)}`,
    };
  },

  /** The run failed and the analysis put the loss (or the violations) at this hop. */
  toBlameHop(received: Resultish, hop: string) {
    const r = resultsOf(received);
    const pass = r.verdict === 'fail' && r.faultyHop === hop;
    return {
      pass,
      message: () =>
        `expected a failing verdict blaming hop "${hop}", got verdict ${r.verdict} blaming ${r.faultyHop ?? 'no hop'}\n${funnel(r)}`,
      actual: r.faultyHop,
      expected: hop,
    };
  },

  toPassVerdict(received: Resultish) {
    const r = resultsOf(received);
    const failed = r.checks.filter((c) => c.status === 'fail');
    const notJudged = r.checks.filter((c) => c.status === 'not-evaluated');
    const listed = (cs: Check[]) => cs.map((c) => `  ${checkMark(c)} ${c.name}: ${c.detail}`).join('\n');
    return {
      pass: r.verdict === 'pass',
      message: () =>
        failed.length
          ? `failed checks:\n${listed(failed)}${notJudged.length ? `\nnot evaluated:\n${listed(notJudged)}` : ''}\n${funnel(r)}`
          : notJudged.length
            ? `expected the verdict to fail, but no check failed (${notJudged.length} not evaluated:\n${listed(notJudged)})`
            : 'expected the verdict to fail, but every check passed',
    };
  },
};

expect.extend(chainMatchers);

interface ChainMatchers<R = unknown> {
  toDeliverAtLeast(ratio: number): R;
  toPreserveSourceIp(): R;
  toFragmentWithin(mtuBytes: number): R;
  toLoseNothingBetween(from: string, to: string): R;
  toHaveLatency(
    bounds: Partial<Record<'p50' | 'p90' | 'p99' | 'p999' | 'max', string | number>>,
    between?: { from: string; to: string },
  ): R;
  toBlameHop(hop: string): R;
  toPassVerdict(): R;
}

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: vitest's own declaration uses any
  interface Assertion<T = any> extends ChainMatchers<T> {}
  interface AsymmetricMatchersContaining extends ChainMatchers {}
}
