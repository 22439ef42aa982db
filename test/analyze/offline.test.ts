/**
 * Offline analysis end to end: captures of a synthetic VPP-profile run (chain-captures.ts, from the
 * profile's own oracle) go through `analyzeCaptures` and the `analyze` CLI.
 *
 * Every fault is applied by scapy editing the pcap files (pcap-faults.py) — an independent tool, not our
 * codecs — and every format conversion by editcap or scapy. The healthy run must pass with exact counts;
 * each fault must fail the verdict and land on the right capture point / hop / violation kind.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import '../../src/vitest/matchers.ts';
import { analyzeCaptures } from '../../src/analyze/analyze.ts';
import type { RunResults } from '../../src/report/results.ts';
import {
  type ChainRun,
  type FaultOp,
  loadVppProfile,
  POINTS,
  type PointName,
  PROFILE_PATH,
  scapyEdit,
  writeHealthyRun,
} from './chain-captures.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const profile = loadVppProfile();

let dir: string;
let run: ChainRun;
/** scapy's report per edited file (keyed by output file name) */
const edits = new Map<string, Record<string, number>>();

const f = (name: string) => join(dir, name);
const seqsWhere = (pred: (p: ChainRun['probes'][number]) => boolean) =>
  run.probes.filter(pred).map((p) => p.seq);
const probe = (seq: number) => run.probes[seq];

/** The healthy files, with some points replaced by edited ones. */
const files = (over: Partial<Record<PointName, string>> = {}) =>
  POINTS.map((name) => ({ name, source: over[name] ? f(over[name]) : run.files[name] }));
const analyze = (over: Partial<Record<PointName, string>> = {}) =>
  analyzeCaptures({ profile, captures: files(over) });
const hop = (r: RunResults, name: string) => r.hops.find((h) => h.name === name)!;

// Which probes each fault touches (decided here; scapy only executes).
const JUMBO_LOST = () => seqsWhere((p) => p.payloadBytes === 8000).filter((_, i) => i % 10 < 3); // 30 % of jumbos
const DELIVERED_LOST = () => seqsWhere((p) => p.seq >= 100 && p.seq < 130); // 30 probes, both sizes
const REWRITTEN = () => seqsWhere((p) => p.seq >= 10 && p.seq < 20); // 10 probes, both sizes
const REFRAGMENTED = 1; // jumbo
const OVERLAPPED = 5; // jumbo
const MISSING_FRAGMENT = 7; // jumbo
const FLIPPED = 4; // 100 B: one unfragmented ESP packet
const ROGUE_AFTER = 10;
const DUPLICATED = 20;
const SWAPPED = 40; // and 41

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chainprobe-offline-'));
  run = await writeHealthyRun({ dir });
  const ops: FaultOp[] = [
    {
      op: 'drop',
      in: run.files.wire,
      out: f('lw-wire.pcap'),
      espIpIds: JUMBO_LOST().map((s) => probe(s).wireIpId),
    },
    { op: 'drop', in: run.files.delivered, out: f('lw-delivered.pcap'), probeSeqs: JUMBO_LOST() },
    { op: 'drop', in: run.files.delivered, out: f('ld-delivered.pcap'), probeSeqs: DELIVERED_LOST() },
    {
      op: 'rewrite-source',
      in: run.files.delivered,
      out: f('src-delivered.pcap'),
      probeSeqs: REWRITTEN(),
      src: '10.9.9.9',
    },
    {
      op: 'refragment',
      in: run.files.wire,
      out: f('refrag-wire.pcap'),
      espIpId: probe(REFRAGMENTED).wireIpId,
      fragsize: 1480,
    },
    {
      op: 'overlap',
      in: run.files.wire,
      out: f('overlap-wire.pcap'),
      espIpId: probe(OVERLAPPED).wireIpId,
      index: 2,
      backBytes: 16,
    },
    {
      op: 'drop-fragment',
      in: run.files.wire,
      out: f('missing-wire.pcap'),
      espIpId: probe(MISSING_FRAGMENT).wireIpId,
      index: 3,
    },
    { op: 'drop', in: run.files.delivered, out: f('missing-delivered.pcap'), probeSeqs: [MISSING_FRAGMENT] },
    { op: 'flip', in: run.files.wire, out: f('flip-wire.pcap'), espIpId: probe(FLIPPED).wireIpId, at: 20 },
    { op: 'drop', in: run.files.delivered, out: f('flip-delivered.pcap'), probeSeqs: [FLIPPED] },
    {
      op: 'inject-esp',
      in: run.files.wire,
      out: f('spi-wire.pcap'),
      afterIpId: probe(ROGUE_AFTER).wireIpId,
      src: '172.20.101.20',
      dst: '172.20.102.20',
      spi: 0x999,
      seq: 1,
    },
    {
      op: 'dup-swap',
      in: run.files.delivered,
      out: f('dup-delivered.pcap'),
      dupSeq: DUPLICATED,
      swapSeq: SWAPPED,
    },
    { op: 'to-sll', in: run.files.ingress, out: f('sll-ingress.pcap') },
    { op: 'to-sll', in: run.files.decap, out: f('sll-decap.pcap') },
  ];
  const conversions = POINTS.flatMap((p) => [
    execa('editcap', ['-F', 'pcapng', run.files[p], f(`ng-${p}.pcapng`)]),
    execa('editcap', ['-F', 'pcap', run.files[p], f(`us-${p}.pcap`)]),
  ]);
  const [reports] = await Promise.all([scapyEdit(ops), ...conversions]);
  for (const [i, o] of ops.entries()) edits.set(o.out.slice(dir.length + 1), reports[i]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('offline analysis of a synthetic VPP-profile run', () => {
  test('healthy: every probe at every point, fragments within the MTU, one SPI, foreign traffic ignored', async () => {
    const r = await analyze();
    expect(r).toPassVerdict();
    expect(r.sent).toBe(200);
    expect(r.delivered).toBe(200);
    expect(r).toDeliverAtLeast(1);
    expect(r.hops.map((h) => [h.name, h.seen, h.lostHere])).toEqual(POINTS.map((p) => [p, 200, 0]));
    // foreign: exactly the unrelated packets the helper mixed in, and packet counts add up
    expect(Object.fromEntries(r.hops.map((h) => [h.name, h.foreign]))).toEqual(run.foreign);
    expect(hop(r, 'ingress').foreign).toBeGreaterThan(0);
    const wirePackets = run.probes.reduce((s, p) => s + p.wirePackets, 0);
    expect(r.hops.map((h) => h.packets)).toEqual([
      200 + run.foreign.ingress,
      200 + run.foreign.decap,
      wirePackets + run.foreign.wire,
      200 + run.foreign.delivered,
    ]);
    expect(r.fragmentation.reassembled).toBe(100); // one per jumbo
    expect(r.fragmentation.maxFragmentBytes).toBeGreaterThan(1300);
    expect(r.fragmentation.maxFragmentBytes).toBeLessThanOrEqual(1400);
    expect(r.fragmentation.incomplete).toBe(0);
    expect(r).toFragmentWithin(1400);
    expect(r).toPreserveSourceIp();
    expect(r.esp).toMatchObject({ spis: [1000], undecryptable: 0, sequenceRegressions: 0, violations: 0 });
    expect(r.nat.violations).toBe(0);
    expect(r.reordered).toBe(0);
    expect(r.duplicates).toBe(0);
    // e2e = delivered − ingress = 60 µs for a small probe; a jumbo's wire sighting is its last fragment
    expect(r.latency.e2e.samples).toBe(200);
    expect(r.latency.e2e.minNs).toBe(60_000);
    expect(r.latency.e2e.maxNs).toBe(60_000);
    expect(r.latency.perHop.map((h) => `${h.from}→${h.to}`)).toEqual([
      'ingress→decap',
      'decap→wire',
      'wire→delivered',
    ]);
    expect(r.latency.perHop[0].latency.p50Ns).toBe(20_000);
    expect(r.run.id).toBe(0x0c4a1);
  });

  test('loss at the wire: 30 % of jumbo datagrams dropped after decap fails delivery and blames "security"', async () => {
    expect(edits.get('lw-wire.pcap')!.dropped).toBe(
      JUMBO_LOST().reduce((s, q) => s + probe(q).wirePackets, 0),
    );
    expect(edits.get('lw-delivered.pcap')!.dropped).toBe(30);
    const r = await analyze({ wire: 'lw-wire.pcap', delivered: 'lw-delivered.pcap' });
    expect(r.delivered).toBe(170);
    expect(() => expect(r).toDeliverAtLeast(0.9)).toThrow(/between decap and wire \(hop "security"\)/);
    expect(r.verdict).toBe('fail');
    expect(r.hops.map((h) => h.lostHere)).toEqual([0, 0, 30, 0]);
    expect(r).toBlameHop('security');
    expect(r.faultySegment).toEqual({ from: 'decap', to: 'wire', lost: 30 });
    expect(r).toLoseNothingBetween('ingress', 'decap');
    expect(r).toLoseNothingBetween('wire', 'delivered');
    // whole datagrams vanished: nothing half-reassembled, no fragmentation or ESP finding
    expect(r.fragmentation).toMatchObject({ reassembled: 70, incomplete: 0, violations: 0 });
    expect(r.esp.violations).toBe(0);
  });

  test('loss only at delivered: put after wire, blames the hop of the wire capture', async () => {
    expect(edits.get('ld-delivered.pcap')!.dropped).toBe(30);
    const r = await analyze({ delivered: 'ld-delivered.pcap' });
    expect(r.delivered).toBe(170);
    expect(hop(r, 'wire').seen).toBe(200);
    expect(r.hops.map((h) => h.lostHere)).toEqual([0, 0, 0, 30]);
    expect(r.faultySegment).toEqual({ from: 'wire', to: 'delivered', lost: 30 });
    expect(r).toBlameHop(hop(r, 'wire').hop);
    expect(r).toBlameHop('destination'); // wire is captured at the destination's entry (fixtures/vpp-testing.json)
    expect(r).toLoseNothingBetween('ingress', 'wire');
  });

  test('source rewrite of 10 delivered probes: 10 violations (once per probe), decoded examples, verdict fail', async () => {
    expect(edits.get('src-delivered.pcap')!.rewritten).toBe(10);
    const r = await analyze({ delivered: 'src-delivered.pcap' });
    expect(r.delivered).toBe(200); // still delivered, just wrong
    expect(r.sourceIp.violations).toBe(10);
    expect(r.verdict).toBe('fail');
    expect(r.checks.find((c) => c.name === 'source IP preserved')!.pass).toBe(false);
    expect(() => expect(r).toPreserveSourceIp()).toThrow(/10\.9\.9\.9/);
    const ex = r.sourceIp.examples[0];
    expect(ex.capture).toBe('delivered');
    expect(REWRITTEN()).toContain(ex.probe.seq);
    expect(ex.reason).toMatch(/source 10\.9\.9\.9, expected 10\.10\.10\.5/);
    // layer by layer: IPv4 with the rewritten source, then UDP, then the probe
    expect(ex.layers.length).toBeGreaterThanOrEqual(2);
    expect(ex.layers[0]).toMatch(/IPv4.*10\.9\.9\.9/);
    expect(ex.layers.join('\n')).toMatch(/UDP/);
    // nothing else is wrong
    expect(r.nat.violations + r.esp.violations + r.fragmentation.violations).toBe(0);
  });

  test('a datagram re-fragmented at 1480 puts a fragment over the 1400 MTU on the wire: fragmentation violation', async () => {
    const e = edits.get('refrag-wire.pcap')!;
    expect(e.largest).toBe(1500);
    const r = await analyze({ wire: 'refrag-wire.pcap' });
    expect(r.fragmentation.maxFragmentBytes).toBe(1500);
    expect(() => expect(r).toFragmentWithin(1400)).toThrow(/largest fragment 1500 B/);
    expect(r.delivered).toBe(200); // it still reassembles and decrypts
    expect(r.fragmentation.violations).toBe(1);
    expect(r.checks.find((c) => c.name === 'fragmentation')!.pass).toBe(false);
    expect(r.verdict).toBe('fail');
  });

  test('overlapping fragments are a fragmentation violation', async () => {
    expect(edits.get('overlap-wire.pcap')!.moved).toBe(1);
    const r = await analyze({ wire: 'overlap-wire.pcap' });
    expect(r.fragmentation.violations).toBe(1);
    expect(r.fragmentation.examples[0].reason).toMatch(/overlap/i);
    expect(r.fragmentation.examples[0].capture).toBe('wire');
    expect(r.verdict).toBe('fail');
    // the probe did not decrypt at the wire, but was delivered: a capture gap, not loss
    expect(hop(r, 'wire').seen).toBe(199);
    expect(r.delivered).toBe(200);
  });

  test('a missing fragment is loss (incomplete datagram), not a fragmentation violation', async () => {
    expect(edits.get('missing-wire.pcap')!.dropped).toBe(1);
    const r = await analyze({ wire: 'missing-wire.pcap', delivered: 'missing-delivered.pcap' });
    expect(r.fragmentation.incomplete).toBe(1);
    expect(r.fragmentation.violations).toBe(0);
    expect(r.fragmentation.reassembled).toBe(99);
    expect(r.hops.map((h) => h.lostHere)).toEqual([0, 0, 1, 0]);
    expect(r.delivered).toBe(199);
  });

  test('a flipped ciphertext byte: one undecryptable ESP packet, the probe lost at the wire', async () => {
    expect(edits.get('flip-wire.pcap')!.flipped).toBe(1);
    const r = await analyze({ wire: 'flip-wire.pcap', delivered: 'flip-delivered.pcap' });
    expect(r.esp.undecryptable).toBe(1);
    expect(r.esp.violations).toBe(1);
    expect(r.esp.examples[0].reason).toMatch(/SPI 0x3e8 seq \d+/);
    expect(r.esp.examples[0].reason).toContain(`seq ${probe(FLIPPED).espSeq}`);
    expect(r.hops.map((h) => h.lostHere)).toEqual([0, 0, 1, 0]);
    expect(hop(r, 'wire').seen).toBe(199);
    expect(r.delivered).toBe(199);
    expect(r.verdict).toBe('fail');
    expect(r.checks.find((c) => c.name === 'ESP')!.pass).toBe(false);
  });

  test('an ESP packet with SPI 0x999 on the wire is an ESP violation naming the SPI', async () => {
    expect(edits.get('spi-wire.pcap')!.added).toBe(1);
    const r = await analyze({ wire: 'spi-wire.pcap' });
    expect(r.esp.violations).toBe(1);
    expect(r.esp.examples[0].reason).toMatch(/SPI 0x999, expected 0x3e8/);
    expect(r.esp.examples[0].layers.join('\n')).toMatch(/ESP/);
    expect(r.esp.spis).toEqual([1000]); // only known SPIs are listed as seen
    expect(r.delivered).toBe(200);
    expect(r.verdict).toBe('fail');
  });

  test('a duplicated and two swapped packets at delivered: duplicates 1, reordered ≥ 1, no loss', async () => {
    expect(edits.get('dup-delivered.pcap')).toEqual({ duplicated: 1, swapped: 2 });
    const r = await analyze({ delivered: 'dup-delivered.pcap' });
    expect(r.duplicates).toBe(1);
    expect(r.reordered).toBeGreaterThanOrEqual(1);
    expect(r.delivered).toBe(200);
    expect(hop(r, 'delivered').seen).toBe(200);
    expect(hop(r, 'delivered').packets).toBe(201 + run.foreign.delivered);
  });

  describe('capture formats give the same analysis', () => {
    const essentials = (r: RunResults) => ({
      verdict: r.verdict,
      sent: r.sent,
      delivered: r.delivered,
      hops: r.hops.map(({ name, seen, lostHere, packets, foreign }) => ({
        name,
        seen,
        lostHere,
        packets,
        foreign,
      })),
      fragmentation: [
        r.fragmentation.reassembled,
        r.fragmentation.maxFragmentBytes,
        r.fragmentation.violations,
      ],
      esp: [r.esp.spis, r.esp.violations],
      sourceIp: r.sourceIp.violations,
      e2e: [r.latency.e2e.samples, r.latency.e2e.p50Ns, r.latency.e2e.maxNs],
    });
    let baseline: ReturnType<typeof essentials>;
    beforeAll(async () => {
      baseline = essentials(await analyze());
    });

    test('pcapng (editcap -F pcapng)', async () => {
      for (const p of POINTS) expect(readFileSync(f(`ng-${p}.pcapng`)).readUInt32LE(0)).toBe(0x0a0d0d0a);
      const r = await analyzeCaptures({
        profile,
        captures: POINTS.map((name) => ({ name, source: f(`ng-${name}.pcapng`) })),
      });
      expect(essentials(r)).toEqual(baseline);
    });

    test('microsecond pcap (editcap -F pcap)', async () => {
      for (const p of POINTS) expect(readFileSync(f(`us-${p}.pcap`)).readUInt32LE(0)).toBe(0xa1b2c3d4);
      const r = await analyzeCaptures({
        profile,
        captures: POINTS.map((name) => ({ name, source: f(`us-${name}.pcap`) })),
      });
      expect(essentials(r)).toEqual(baseline);
    });

    test('Linux cooked (SLL) at ingress and decap (scapy CookedLinux)', async () => {
      expect(edits.get('sll-ingress.pcap')).toMatchObject({
        linktype: 113,
        converted: 200 + run.foreign.ingress,
      });
      expect(readFileSync(f('sll-ingress.pcap')).readUInt32LE(20)).toBe(113);
      const r = await analyze({ ingress: 'sll-ingress.pcap', decap: 'sll-decap.pcap' });
      expect(essentials(r)).toEqual(baseline);
    });
  });
});

describe('analyze CLI', () => {
  const cli = (args: string[]) =>
    execa('node', ['bin/chainprobe.js', 'analyze', ...args], { cwd: REPO, reject: false, timeout: 60_000 });
  const captureArgs = (over: Partial<Record<PointName, string>> = {}) =>
    files(over).flatMap((c) => ['--capture', `${c.name}=${c.source}`]);
  const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

  test('exit 0 on pass, 1 on fail; the JSON is written either way', async () => {
    const [pass, fail] = await Promise.all([
      cli(['--profile', PROFILE_PATH, ...captureArgs(), '--json', f('cli-pass.json')]),
      cli([
        '--profile',
        PROFILE_PATH,
        ...captureArgs({ wire: 'lw-wire.pcap', delivered: 'lw-delivered.pcap' }),
        '--json',
        f('cli-fail.json'),
      ]),
    ]);
    expect(pass.exitCode, pass.stderr).toBe(0);
    expect(fail.exitCode, fail.stderr).toBe(1);
    const ok = JSON.parse(readFileSync(f('cli-pass.json'), 'utf8')) as RunResults;
    const bad = JSON.parse(readFileSync(f('cli-fail.json'), 'utf8')) as RunResults;
    expect(ok).toMatchObject({ verdict: 'pass', sent: 200, delivered: 200 });
    expect(bad).toMatchObject({ verdict: 'fail', sent: 200, delivered: 170, faultyHop: 'security' });
    expect(bad).toBlameHop('security');
  });

  test('exit 2 with a message naming the problem, never a stack trace', async () => {
    const garbage = f('garbage.pcap');
    writeFileSync(garbage, 'this is not a capture file, just text\n'.repeat(4));
    const truncated = f('truncated-wire.pcap');
    writeFileSync(truncated, readFileSync(run.files.wire));
    truncateSync(truncated, statSync(truncated).size - 500); // cut inside the last record
    const cases: [string, string[], RegExp][] = [
      [
        'unknown capture point',
        ['--capture', `bogus=${run.files.wire}`],
        /no capture point "bogus".*ingress, decap, wire, delivered/,
      ],
      ['capture without =FILE', ['--capture', 'wire'], /--capture must be NAME=FILE/],
      ['missing file', ['--capture', `wire=${f('nope.pcap')}`], /wire: no such file .*nope\.pcap/],
      ['malformed pcap', ['--capture', `wire=${garbage}`], /malformed pcap/],
      ['truncated pcap', [...captureArgs({ wire: 'truncated-wire.pcap' })], /malformed pcap|truncated/],
      [
        'missing profile',
        ['--capture', `wire=${run.files.wire}`, '--profile', f('nope.json')],
        /nope\.json[\s\S]*cannot read file/,
      ],
    ];
    const results = await Promise.all(
      cases.map(([, args]) =>
        cli(
          args.includes('--profile')
            ? args
            : ['--profile', PROFILE_PATH, ...args, '--json', f('cli-bad.json')],
        ),
      ),
    );
    results.forEach((res, i) => {
      const [what, , message] = cases[i];
      expect({ what, exitCode: res.exitCode }).toEqual({ what, exitCode: 2 });
      expect(res.stderr, what).toMatch(message);
      expect(res.stderr, what).not.toMatch(STACK);
    });
  });
});

describe('bounded memory', () => {
  test('a 100 000-probe run (ingress + delivered) analyses with a modest heap', async () => {
    const big = await writeHealthyRun({
      dir,
      prefix: 'big-',
      probes: 100_000,
      size: () => 100,
      points: ['ingress', 'delivered'],
      foreign: false,
    });
    let peak = 0;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    };
    const r = await analyzeCaptures({
      profile,
      captures: [
        { name: 'ingress', source: big.files.ingress },
        { name: 'delivered', source: big.files.delivered },
      ],
      onProgress: sample,
    });
    sample();
    expect(r.sent).toBe(100_000);
    expect(r.delivered).toBe(100_000);
    expect(r.verdict).toBe('pass');
    expect(r.latency.e2e.samples).toBe(100_000);
    // 100 000 probes span 10 s of capture time; the journey window (5 s) keeps ~50 000 in flight.
    expect(peak).toBeLessThan(384 * 1024 * 1024);
  });
});
