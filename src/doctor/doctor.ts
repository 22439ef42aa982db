/**
 * `doctor`: read both ends, probe both ways, search the MTU when large packets vanish, diagnose.
 *
 *   round 1  per direction: small VXLAN probes, full-size ones (the overlay MTU, DF) and control probes
 *   round 2  (only for a direction whose small probes cross and full-size ones do not) a ladder of sizes
 *            in 32-byte steps between the two, then round 3 in 1-byte steps inside the bracket found:
 *            maxInnerBytes is the largest inner IPv4 packet that reached the receiver's underlay.
 */
import { vppVxlanReader } from '../drivers/vpp/vxlan-reader.ts';
import { type EndConfig, readEndConfig, registerVxlanConfigReader } from './config.ts';
import { dedupe, diagnoseConfig, diagnoseDirection, observedPublic, sightingsOf } from './diagnose.ts';
import { type DoctorReport, type Finding, verdictOf } from './findings.ts';
import { type Host, openHost, type SshDefaults } from './host.ts';
import { type EndRuntime, probeRound, type RoundResult, type Side } from './observe.ts';
import { type Direction, newRunId, type PlannedProbe, senderView, VXLAN_OVERHEAD_BYTES } from './probes.ts';

// VPP ends (its `show vxlan tunnel`), tried after the kernel's reader
registerVxlanConfigReader(vppVxlanReader);

export interface DoctorOptions {
  a: string;
  b: string;
  /** VXLAN interface per end when a host has several */
  devices?: Partial<Record<Side, string>>;
  ssh?: SshDefaults;
  /** probes of each kind per direction in round 1 (default 3) */
  probesPerKind?: number;
  onProgress?: (line: string) => void;
}

const SMALL_INNER_BYTES = 100;
const COARSE_STEP = 32;
const DIRECTIONS: readonly Direction[] = ['a->b', 'b->a'];
const senderOf = (d: Direction): Side => (d === 'a->b' ? 'a' : 'b');

/** The largest inner packet a sender can put on its wire: its overlay MTU, bounded by the underlay. */
export function fullInnerBytes(c: EndConfig): number {
  return Math.min(c.vxlan.mtu, c.underlay.mtu - VXLAN_OVERHEAD_BYTES);
}

class Planner {
  private seq = 0;
  readonly probes: PlannedProbe[] = [];
  add(direction: Direction, kind: PlannedProbe['kind'], innerBytes: number, n = 1): void {
    for (let i = 0; i < n; i++)
      this.probes.push({ seq: this.seq++, direction, kind, innerBytes, dontFragment: true });
  }
}

function describeEnd(h: Host, c: EndConfig) {
  return {
    host: h.name,
    where: h.transport.description,
    reader: c.reader,
    vxlan: c.vxlan,
    ownAddresses: c.ownAddresses,
    underlay: c.underlay,
    routes: c.routes,
  };
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const t0 = Date.now();
  const say = o.onProgress ?? (() => {});
  const hosts: Partial<Record<Side, Host>> = {};
  try {
    hosts.a = await openHost(o.a, o.ssh);
    hosts.b = await openHost(o.b, o.ssh);
    const config = {
      a: await readEndConfig(hosts.a.transport, o.devices?.a),
      b: await readEndConfig(hosts.b.transport, o.devices?.b),
    };
    const rt: Record<Side, EndRuntime> = {
      a: { side: 'a', host: hosts.a, config: config.a, view: senderView(config.a, config.b, 'a') },
      b: { side: 'b', host: hosts.b, config: config.b, view: senderView(config.b, config.a, 'b') },
    };
    const full = { a: fullInnerBytes(config.a), b: fullInnerBytes(config.b) };
    const runId = newRunId();
    const rounds: RoundResult[] = [];
    const n = o.probesPerKind ?? 3;

    const p1 = new Planner();
    for (const d of DIRECTIONS) {
      p1.add(d, 'vxlan', SMALL_INNER_BYTES, n);
      p1.add(d, 'vxlan', full[senderOf(d)], n);
      p1.add(d, 'control', SMALL_INNER_BYTES, n);
    }
    say(`round 1: ${p1.probes.length} probes (small, full-size and control, both directions)`);
    const basic = await probeRound(rt, p1.probes, runId);
    rounds.push(basic);

    // MTU search for directions where small probes reach the receiver and full-size ones do not.
    const reached = (r: RoundResult, d: Direction, pick: (p: PlannedProbe) => boolean) =>
      sightingsOf(
        r,
        `${d === 'a->b' ? 'b' : 'a'}.underlay`,
        (p) => p.direction === d && p.kind === 'vxlan' && pick(p),
      );
    const searching = DIRECTIONS.filter(
      (d) =>
        reached(basic, d, (p) => p.innerBytes === SMALL_INNER_BYTES).length > 0 &&
        reached(basic, d, (p) => p.innerBytes === full[senderOf(d)]).length === 0,
    );
    const maxInner: Partial<Record<Direction, number>> = {};
    if (searching.length > 0) {
      const lo: Partial<Record<Direction, number>> = {};
      const hi: Partial<Record<Direction, number>> = {};
      const ladder = new Planner();
      for (const d of searching)
        for (let s = SMALL_INNER_BYTES; s < full[senderOf(d)]; s += COARSE_STEP) ladder.add(d, 'vxlan', s);
      say(`round 2: MTU search, ${ladder.probes.length} probes in ${COARSE_STEP}-byte steps`);
      const coarse = await probeRound(rt, ladder.probes, runId + 1);
      rounds.push(coarse);
      for (const d of searching) {
        const ok = reached(coarse, d, () => true).map((s) => s.innerBytes);
        lo[d] = Math.max(SMALL_INNER_BYTES, ...ok);
        hi[d] = Math.min(lo[d] + COARSE_STEP, full[senderOf(d)]);
      }
      const fine = new Planner();
      for (const d of searching)
        for (let s = (lo[d] as number) + 1; s < (hi[d] as number); s++) fine.add(d, 'vxlan', s);
      say(`round 3: MTU search, ${fine.probes.length} probes in 1-byte steps`);
      const exact = fine.probes.length > 0 ? await probeRound(rt, fine.probes, runId + 2) : undefined;
      if (exact) rounds.push(exact);
      for (const d of searching) {
        const ok = exact ? reached(exact, d, () => true).map((s) => s.innerBytes) : [];
        maxInner[d] = Math.max(lo[d] as number, ...ok);
      }
    }

    const publicOf = observedPublic([basic]);
    const findings: Finding[] = dedupe([
      ...diagnoseConfig(rt),
      ...DIRECTIONS.flatMap((d) =>
        diagnoseDirection(
          { direction: d, basic, fullInnerBytes: full[senderOf(d)], maxInnerBytes: maxInner[d] },
          rt,
          publicOf,
        ),
      ),
    ]);
    if (!findings.some((f) => f.severity === 'error'))
      findings.push({
        kind: 'healthy',
        severity: 'info',
        summary: `probes cross both ways at full size (${full.a} / ${full.b}-byte inner packets) and are decapsulated and accepted`,
        evidence: { facts: { fullInnerBytes: full, publicAddresses: publicOf } },
        fix: 'nothing to do',
      });
    return {
      schema: 'chainprobe.doctor/1',
      verdict: verdictOf(findings),
      hosts: { a: describeEnd(hosts.a, config.a), b: describeEnd(hosts.b, config.b) },
      findings,
      rounds: rounds.map((r) => ({
        probes: r.planned.length,
        captureDrops: Object.values(r.captureDrops).reduce((x, y) => x + y, 0),
      })),
      durationMs: Date.now() - t0,
    };
  } finally {
    await Promise.allSettled(Object.values(hosts).map((h) => h?.transport.close()));
  }
}

/** Human-readable report: verdict, then each finding with its evidence and fix. */
export function formatDoctorReport(r: DoctorReport): string {
  const lines = [`verdict: ${r.verdict.toUpperCase()}`];
  for (const f of r.findings) {
    lines.push('', `[${f.severity}] ${f.kind}${f.direction ? ` (${f.direction})` : ''}: ${f.summary}`);
    if (f.maxInnerBytes !== undefined) lines.push(`  maxInnerBytes: ${f.maxInnerBytes}`);
    for (const [label, s] of [
      ['sent', f.evidence.sent],
      ['received', f.evidence.received],
      ['decapsulated', f.evidence.decapsulated],
    ] as const)
      if (s?.decoded) lines.push(`  ${label}:`, ...s.decoded.split('\n').map((l) => `    ${l}`));
    lines.push(`  fix: ${f.fix}`);
  }
  return lines.join('\n');
}
