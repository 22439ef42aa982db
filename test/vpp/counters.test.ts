/**
 * Named counters from recorded VPP output, their before/after deltas reconciled with the probes of the run
 * recorded beside them (run-results.json), and loss attribution on each recorded fault.
 */
import { describe, expect, it } from 'vitest';
import { type CounterSnapshot, counterDelta } from '../../src/drivers/counters.ts';
import { vppCounters, vppInstanceOutput } from '../../src/drivers/vpp/counters.ts';
import { explainLoss, natTranslation, tracedDrops } from '../../src/drivers/vpp/explain.ts';
import { parseShowNat44Sessions } from '../../src/drivers/vpp/parse/nat44.ts';
import { parseShowTrace } from '../../src/drivers/vpp/parse/trace.ts';
import {
  INSTANCE_OF_HOP,
  INSTANCES,
  type Instance,
  recorded,
  recordedFiles,
  runResults,
  scenarios,
} from './recorded.ts';

const files = recordedFiles();

/** An instance's counters at one phase, from the recorded answers of every command (as the driver will). */
function countersAt(scenario: string, phase: 'before' | 'after', instance: Instance) {
  const answers = files
    .filter((f) => f.scenario === scenario && f.phase === phase && f.instance === instance)
    .map((f) => ({ cli: f.command, text: recorded(scenario, phase, instance, f.stem) }));
  return vppCounters(vppInstanceOutput(answers));
}

/** one hop's counters as the driver's snapshot holds them */
const snapshot = (takenAt: string, counters: Record<string, number>): CounterSnapshot => ({
  driver: 'vpp',
  takenAt,
  hops: { hop: counters },
  unavailable: [],
  tookMs: 1,
});

/** The run's delta (drivers/counters.ts, what run results carry) of one instance, and its severities. */
function deltaAt(scenario: string, instance: Instance) {
  const after = countersAt(scenario, 'after', instance);
  const d = counterDelta(
    snapshot('before', countersAt(scenario, 'before', instance).counters),
    snapshot('after', after.counters),
  );
  return { delta: d.hops.hop ?? {}, reset: d.unavailable, severity: after.severity };
}

describe('VPP counters', () => {
  it('names interface, error, SA and NAT counters as paths, with severities', () => {
    const { counters, severity } = countersAt('healthy', 'after', 'sec');
    expect(counters).toMatchObject({
      'if/host-sec0/rx-packets': 200,
      'if/host-sec1/tx-packets': 700,
      'err/esp4-encrypt-tun/ESP pkts received': 200,
      'err/ip4-frag/number of sent fragments': 600,
      'sa/1000/packets': 200,
      'sa/1000/bytes': 819600,
      'sa/1000/err/packets lost': 0,
      'sa/2000/packets': 0,
      'nat44/sessions': 1,
    });
    expect(severity['err/esp4-encrypt-tun/ESP pkts received']).toBe('info');
    expect(severity['sa/1000/err/Integrity check failed']).toBe('error');
    expect(severity['if/host-sec0/rx-packets']).toBe('info');
    expect(
      severity['if/loop0/drops'] ?? countersAt('mtuLowered', 'after', 'vx').severity['if/loop0/drops'],
    ).toBe('error');
  });

  it('a counter VPP hid before the run (zero) counts from 0; none was reset during the recorded runs', () => {
    for (const scenario of scenarios()) {
      for (const instance of INSTANCES)
        expect(deltaAt(scenario, instance).reset, `${scenario}/${instance}`).toEqual([]);
    }
    const { delta } = deltaAt('healthy', 'sec');
    expect(delta['if/host-sec0/rx-packets']).toBe(200);
    // hidden before the recorded run: the run results' counter table must still carry it
    expect(countersAt('healthy', 'before', 'sec').counters['if/host-sec0/rx-packets']).toBeUndefined();
    expect(
      counterDelta(
        snapshot('before', { 'if/x/rx-packets': 5, 'err/n/gone': 2 }),
        snapshot('after', { 'if/x/rx-packets': 3 }),
      ).unavailable,
    ).toEqual([
      { hop: 'hop', reason: 'if/x/rx-packets went from 5 to 3 (reset during the run)' },
      { hop: 'hop', reason: 'err/n/gone went from 2 to none (reset during the run)' },
    ]);
  });

  it("each hop's counters reconcile with the probes the run saw there (healthy: 200 through every VPP)", () => {
    const run = runResults('healthy');
    const seenAt = (hop: string) => run.hops.find((h: { hop: string }) => h.hop === hop)?.seen;
    expect(seenAt('vxlan')).toBe(200);
    // vxlan hop: 200 decapsulated into the bridge domain, routed out towards the security hop
    expect(deltaAt('healthy', 'vx').delta).toMatchObject({
      'err/vxlan4-input/good packets decapsulated': seenAt('vxlan'),
    });
    // security hop: each probe NATed into the tunnel and encrypted once; fragments counted apart
    const sec = deltaAt('healthy', 'sec').delta;
    expect(sec['if/host-sec0/rx-packets']).toBe(seenAt('security'));
    expect(sec['sa/1000/packets']).toBe(seenAt('security'));
    expect(sec['err/esp4-encrypt-tun/ESP pkts received']).toBe(seenAt('security'));
    // destination: what its wire capture saw (packets, i.e. fragments) is what VPP received there
    const wire = run.hops.find((h: { stage: string }) => h.stage === 'wire');
    expect(deltaAt('healthy', 'dst').delta['if/host-dst0/rx-packets']).toBe(wire.packets);
    expect(deltaAt('healthy', 'dst').delta['err/ip4-local-full-reassembly/successful reassemblies']).toBe(
      run.fragmentation.reassembled,
    );
  });
});

describe('loss attribution on the recorded faults', () => {
  /** the VPP instance that owns the segment where the run lost probes, its delta, and the loss */
  const faulted = (scenario: string) => {
    const run = runResults(scenario);
    const instance = INSTANCE_OF_HOP[run.faultyHop] as Instance;
    return { instance, lost: run.faultySegment.lost as number, ...deltaAt(scenario, instance) };
  };

  it('healthy: no probe lost, nothing to explain, and no drop counter moved on any hop', () => {
    const run = runResults('healthy');
    expect(run.hops.every((h: { lostHere: number }) => h.lostHere === 0)).toBe(true);
    for (const instance of INSTANCES) {
      const d = deltaAt('healthy', instance);
      expect(explainLoss({ ...d, lost: 0 }).summary).toBe('no probes lost here: nothing to explain');
      // had probes been lost here, no VPP counter would account for them (e.g. lost on the wire between hops)
      expect(explainLoss({ ...d, lost: 5 })).toEqual({
        lost: 5,
        attributions: [],
        summary: 'no VPP counter explains the 5 probes lost here',
      });
    }
  });

  it('mtuLowered: the vxlan hop, node ip4-input, "ip4 MTU exceeded and DF set" explains all lost', () => {
    const f = faulted('mtuLowered');
    expect(f.instance).toBe('vx');
    expect(f.lost).toBe(100);
    const e = explainLoss(f);
    expect(e.summary).toBe(
      'VPP node ip4-input, error "ip4 MTU exceeded and DF set" +100 (explains all 100 lost)',
    );
    expect(e.attributions.filter((a) => a.explains === 'all').map((a) => a.counter)).toEqual([
      'err/ip4-input/ip4 MTU exceeded and DF set',
    ]);
    // forwarding-path counters VPP prints as "error" are not drops
    expect(e.attributions.map((a) => a.counter)).not.toContain('err/vxlan4-input/good packets decapsulated');
    expect(e.attributions.map((a) => a.counter)).toContain('if/loop0/drops');
  });

  it('interfaceDown: the security hop, its rx interface drops and the reason-less drop explain all lost', () => {
    const f = faulted('interfaceDown');
    expect(f.instance).toBe('sec');
    const e = explainLoss(f);
    expect(e.attributions.map((a) => [a.counter, a.delta, a.explains])).toEqual([
      ['err/ethernet-input/no error', f.lost, 'all'],
      ['if/host-sec0/drops', f.lost, 'all'],
    ]);
    expect(e.summary).toBe(
      `VPP node ethernet-input, error "no error" (dropped after ethernet-input by a node that recorded no reason) +${f.lost} (explains all ${f.lost} lost)`,
    );
  });

  it('natReversed: VPP forwarded every probe (source rewritten by NAT): no counter explains the loss', () => {
    const f = faulted('natReversed');
    expect(f.instance).toBe('dst');
    expect(f.lost).toBe(200);
    // the destination sent all 200 on to the collector; its only drops are 3 other packets
    expect(f.delta['if/host-dst1/tx-packets']).toBe(200);
    const e = explainLoss(f);
    expect(e.attributions.map((a) => [a.counter, a.explains])).toEqual([['if/host-dst1/drops', 'part']]);
    expect(e.summary).toBe(
      'no VPP counter explains all 200 probes lost here (closest: VPP interface host-dst1, counter drops +3 (at most 3 of the 200 lost))',
    );
  });

  it('fragment-level counters match lost × fragments per probe; a smaller delta explains part', () => {
    // the arithmetic alone, on a delta shaped like the destination's reassembly counters
    const severity = {
      'err/ip4-full-reassembly/fragment dropped': 'error',
      'if/host-dst0/rx-miss': 'error',
    } as const;
    const e = explainLoss({
      delta: { 'err/ip4-full-reassembly/fragment dropped': 300, 'if/host-dst0/rx-miss': 40 },
      severity,
      lost: 100,
      fragmentsPerProbe: 3,
    });
    expect(e.attributions.map((a) => a.text)).toEqual([
      'VPP node ip4-full-reassembly, error "fragment dropped" +300 (explains all 100 lost, 3 fragments each)',
      'VPP interface host-dst0, counter rx-miss +40 (at most 40 of the 100 lost)',
    ]);
  });
});

describe('dropped packets in the recorded VPP traces', () => {
  const drops = (scenario: string, instance: Instance) =>
    tracedDrops(parseShowTrace(recorded(scenario, 'after', instance, 'trace')));

  it('healthy: no traced packet dropped on any hop', () => {
    for (const instance of INSTANCES) expect(drops('healthy', instance), instance).toEqual([]);
  });

  it('natReversed: the security hop NATs every probe and drops none', () => {
    expect(drops('natReversed', 'sec')).toEqual([]);
    const trace = parseShowTrace(recorded('natReversed', 'after', 'sec', 'trace'));
    expect(trace[0]?.steps.map((s) => s.node)).toEqual(
      expect.arrayContaining(['nat44-ed-in2out-slowpath', 'esp4-encrypt-tun']),
    );
  });

  it('interfaceDown: encrypted, then dropped by the tunnel adjacency stacked on the down interface', () => {
    const [d] = drops('interfaceDown', 'sec');
    expect(d?.lastNodes).toEqual(['esp4-encrypt-tun', 'adj-midchain-tx', 'ip4-drop']);
    expect(d?.packets).toBe(50);
  });

  it('mtuLowered: the big DF probes turn into ICMP errors at ip4-rewrite, with the MTU reason', () => {
    const [d] = drops('mtuLowered', 'vx');
    expect(d).toMatchObject({
      reason: 'ip4-input: ip4 MTU exceeded and DF set',
      lastNodes: ['ip4-lookup', 'ip4-rewrite', 'ip4-icmp-error'],
    });
    // the trace holds the first 50 packets of af-packet-input, probes (100 B and 8000 B alternating) and others
    expect(d?.packets).toBeGreaterThan(0);
    expect(d?.packets).toBeLessThan(50);
  });
});

describe('what NAT does to the probes, from the recorded sessions', () => {
  /** the probes' flow as the security hop's ip4-input saw the first traced packet */
  const probeFlow = (scenario: string) => {
    const ip4 = parseShowTrace(recorded(scenario, 'after', 'sec', 'trace'))[0]?.steps.find(
      (s) => s.node === 'ip4-input',
    );
    const [, saddr, daddr] = ip4?.lines.find((l) => /^UDP: \d/.test(l))?.match(/^UDP: (\S+) -> (\S+)/) ?? [];
    const [, sport, dport] =
      ip4?.lines.find((l) => /^UDP: \d+ -> \d+$/.test(l))?.match(/^UDP: (\d+) -> (\d+)/) ?? [];
    return { saddr, daddr, sport: Number(sport), dport: Number(dport) };
  };
  const sessions = (scenario: string) =>
    parseShowNat44Sessions(recorded(scenario, 'after', 'sec', 'nat44-sessions')).sessions;

  it('healthy: out2in rewrites only the destination (the static mapping to the collector)', () => {
    const t = natTranslation(sessions('healthy'), probeFlow('healthy'));
    expect(t).toMatchObject({
      direction: 'o2i',
      node: 'nat44-ed-out2in',
      rewritesSource: false,
      rewritesDestination: true,
      packets: 200,
    });
    expect(t?.text).toBe(
      'VPP node nat44-ed-out2in (static NAT44 session, 200 packets): destination 10.10.10.10:2055 → 172.20.102.10:2055',
    );
  });

  it('natReversed: in2out rewrites the source to the pool address (the failure the production guide warns about)', () => {
    const t = natTranslation(sessions('natReversed'), probeFlow('natReversed'));
    expect(t).toMatchObject({
      direction: 'i2o',
      node: 'nat44-ed-in2out',
      kind: 'dynamic',
      rewritesSource: true,
    });
    expect(t?.text).toContain('source 10.10.10.5:40000 → 172.20.102.50:40000');
  });

  it('a flow no session matches has no translation', () => {
    expect(natTranslation(sessions('healthy'), { saddr: '192.0.2.1', daddr: '192.0.2.2' })).toBeNull();
    expect(natTranslation(sessions('natReversed').slice(0, 0), probeFlow('natReversed'))).toBeNull();
  });
});
