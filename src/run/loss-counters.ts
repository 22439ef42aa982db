/**
 * Where the funnel says probes vanished, the hops' own counters say why: for every segment between two
 * capture points that lost probes, the drop-like counters of the hops at either end whose rise accounts
 * for the loss (drivers/vpp/explain.ts ranks them), as a sentence the verdict and the report carry —
 * "…at hop security: VPP node ip4-input, error "ip4 MTU exceeded and DF set" +100 (explains all 100 lost)",
 * or "no counter explains them".
 */
import type { CounterSnapshot } from '../drivers/counters.ts';
import { explainLoss } from '../drivers/vpp/explain.ts';
import type { LossExplanation, RunResults } from '../report/results.ts';

/**
 * Per hop, the counters that moved during the run, with their values before and after (results v2). A
 * counter missing before was 0 (VPP hides counters at zero).
 */
export function hopCounters(
  before: CounterSnapshot,
  after: CounterSnapshot,
): NonNullable<RunResults['counters']> {
  const out: NonNullable<RunResults['counters']> = {};
  for (const [hop, now] of Object.entries(after.hops)) {
    const was = before.hops[hop] ?? {};
    const moved = Object.entries(now)
      .filter(([name, v]) => v !== (was[name] ?? 0))
      .map(([name, v]) => ({ name, before: was[name] ?? 0, after: v, delta: v - (was[name] ?? 0) }));
    out[hop] = { source: `${after.driver} driver`, counters: moved };
  }
  return out;
}

/** `moved`: hopCounters' result; `severity`: the after snapshot's (VPP's error severities). */
export function explainLossByCounters(
  results: RunResults,
  moved: NonNullable<RunResults['counters']>,
  severity: CounterSnapshot['severity'] = {},
): LossExplanation[] {
  const out: LossExplanation[] = [];
  results.hops.forEach((point, i) => {
    if (point.lostHere <= 0) return;
    const prev = results.hops[i - 1];
    const hops = [...new Set([prev?.hop, point.hop].filter((h): h is string => !!h && !!moved[h]))];
    const counters: LossExplanation['counters'] = [];
    for (const hop of hops) {
      const delta: Record<string, number> = {};
      for (const c of moved[hop].counters) if (c.delta > 0) delta[c.name] = c.delta;
      const e = explainLoss({ delta, severity: severity[hop] ?? {}, lost: point.lostHere });
      for (const a of e.attributions)
        counters.push({ hop, counter: a.counter, delta: a.delta, explains: a.explains, text: a.text });
    }
    counters.sort((a, b) => (a.explains === b.explains ? 0 : a.explains === 'all' ? -1 : 1));
    const best = counters[0];
    out.push({
      from: prev?.name ?? 'the injector',
      to: point.name,
      hops,
      lost: point.lostHere,
      counters,
      summary: best
        ? `at hop ${best.hop}: ${best.text}`
        : hops.length
          ? `no counter of ${hops.join(' or ')} explains the ${point.lostHere} probes lost here`
          : 'no counters were read at these hops',
    });
  });
  return out;
}

/** The verdict names the counter: appended to the failing delivery check. */
export function attachLossExplanations(results: RunResults, explanations: LossExplanation[]): void {
  results.lossExplanations = explanations;
  const delivery = results.checks.find((c) => c.name === 'delivery');
  if (delivery && delivery.status === 'fail' && explanations.length)
    delivery.detail += `; counters: ${explanations.map((e) => `${e.from}→${e.to}: ${e.summary}`).join('; ')}`;
}

/**
 * Packet traces name the node: a failing delivery or source check gets the trace's findings of the hops
 * involved (e.g. "VPP trace at security: source 10.10.10.5 → 172.20.102.50 by nat44-ed-in2out").
 */
export function attachPacketTraces(
  results: RunResults,
  traces: NonNullable<RunResults['packetTraces']>,
): void {
  results.packetTraces = traces;
  const said = (pred: (f: string) => boolean) =>
    traces.flatMap((t) =>
      t.findings
        .filter((f) => pred(f.finding))
        .map((f) => `${t.hop}: ${f.finding} (×${f.packets} of ${t.traced} traced)`),
    );
  const source = results.checks.find((c) => c.name === 'source IP preserved');
  const rewrites = said((f) => f.startsWith('source'));
  if (source?.status === 'fail' && rewrites.length) source.detail += `; VPP trace: ${rewrites.join('; ')}`;
  const delivery = results.checks.find((c) => c.name === 'delivery');
  const drops = said((f) => f.startsWith('dropped'));
  if (delivery?.status === 'fail' && drops.length) delivery.detail += `; VPP trace: ${drops.join('; ')}`;
}
