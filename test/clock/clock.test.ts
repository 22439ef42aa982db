/**
 * Several hosts, several clocks. Offline: the scapy-built golden captures with two points shifted by a
 * known offset by `editcap -t` (Wireshark's tool, not ours) give the same latencies as the originals once
 * the offset is given, and are visibly wrong without it. Live: an SSH host (sshd in a namespace) states its
 * offset and uncertainty from an exchange over the transport, and captures taken there and here, one of
 * them shifted by editcap, give the shift back by the minimum-delay method.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyzeCaptures } from '../../src/analyze/analyze.ts';
import { startCaptures } from '../../src/capture/index.ts';
import { loadProfile } from '../../src/chain/profile.ts';
import {
  ClockTrack,
  exchangeClockOffset,
  formatOffset,
  intersectOffsets,
  offsetFromMinimumDelays,
  oneWayDelays,
  type PointClock,
} from '../../src/clock/index.ts';
import { readPackets } from '../../src/pcap/reader.ts';
import { LocalTransport, openSsh, type Transport } from '../../src/transport/index.ts';
import {
  deleteNamespace,
  hostVeth,
  type Sshd,
  shQuiet,
  startSshd,
  stopSshd,
  udpBurstArgv,
} from '../transport/lab.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cp-clock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const POINTS = ['ingress', 'decap', 'wire', 'delivered'];
const profile = loadProfile('fixtures/vpp-testing.json');
const SHIFT_S = 1.5;

async function shifted(name: string, seconds: number): Promise<string> {
  const out = join(tmp, `${name}+${seconds}.pcap`);
  await execa('editcap', ['-t', String(seconds), `pcaps/vpp-sample/${name}.pcap`, out]);
  return out;
}

describe('latencies across clocks (golden captures, editcap -t)', () => {
  const analyse = (sources: Record<string, string>, clocks: Record<string, PointClock> = {}) =>
    analyzeCaptures({
      profile,
      captures: POINTS.map((name) => ({ name, source: sources[name], clock: clocks[name] })),
    });
  const original = Object.fromEntries(POINTS.map((n) => [n, `pcaps/vpp-sample/${n}.pcap`]));

  test('wire and delivered on a clock 1.5 s ahead: wrong without the offset, exact with it', async () => {
    const base = await analyse(original);
    const moved = {
      ...original,
      wire: await shifted('wire', SHIFT_S),
      delivered: await shifted('delivered', SHIFT_S),
    };
    const naive = await analyse(moved);
    const hop = (r: typeof base, from: string) => r.latency.perHop.find((h) => h.from === from)!.latency;
    // Without the offset, decap→wire absorbs the clock difference.
    expect(hop(naive, 'decap').p50Ns! - hop(base, 'decap').p50Ns!).toBeGreaterThan(SHIFT_S * 1e9 - 1e6);

    const dst: PointClock = {
      host: 'destination',
      offset: { offsetNs: SHIFT_S * 1e9, uncertaintyNs: 0, method: 'given', atNs: 0 },
    };
    const fixed = await analyse(moved, { wire: dst, delivered: dst });
    expect(fixed.latency.perHop.map((h) => h.latency.p50Ns)).toEqual(
      base.latency.perHop.map((h) => h.latency.p50Ns),
    );
    expect(fixed.latency.e2e.p50Ns).toBe(base.latency.e2e.p50Ns);
    expect(fixed.verdict).toBe('pass');
    expect(fixed.latency.clock).toMatch(/destination \+1\.500000 s ± 0 ns/);
  });

  test('with a 30 µs uncertainty, one-way latencies finer than it are withheld and the rest rounded to it', async () => {
    const moved = {
      ...original,
      wire: await shifted('wire', SHIFT_S),
      delivered: await shifted('delivered', SHIFT_S),
    };
    const dst: PointClock = {
      host: 'destination',
      offset: { offsetNs: SHIFT_S * 1e9, uncertaintyNs: 15_000, method: 'given', atNs: 0 },
    };
    const r = await analyse(moved, { wire: dst, delivered: dst });
    const [ingressDecap, decapWire, wireDelivered] = r.latency.perHop.map((h) => h.latency);
    // ingress→decap: one clock (no destination point) — untouched, 20 µs
    expect(ingressDecap.p50Ns).toBe(20_031);
    expect(ingressDecap.clockUncertaintyNs).toBeUndefined();
    // decap→wire crosses clocks: ±15 µs (the other side is the reference); 20 µs rounds to 15 µs multiples
    expect(decapWire.clockUncertaintyNs).toBe(15_000);
    expect(decapWire.p50Ns! % 15_000).toBe(0);
    // wire→delivered is on one clock again
    expect(wireDelivered.p50Ns).toBe(20_031);
    // e2e 60 µs: ±15 µs
    expect(r.latency.e2e.p50Ns).toBe(60_000);
    expect(r.latency.e2e.note).toMatch(/rounded to the clock uncertainty ± 15\.0 µs/);
  });

  test('an uncertainty above the latency: the latency is not reported, and the note says why', async () => {
    const dst: PointClock = {
      host: 'destination',
      offset: { offsetNs: 0, uncertaintyNs: 100_000, method: 'given', atNs: 0 },
    };
    const r = await analyse(original, { wire: dst, delivered: dst });
    const decapWire = r.latency.perHop[1].latency;
    expect(decapWire.p50Ns).toBeNull();
    expect(decapWire.note).toMatch(/p50.*below the clock uncertainty, not reported/);
    expect(r.latency.e2e.p50Ns).toBeNull();
  });
});

describe('estimators', () => {
  test('minimum delay: the bound contains the true offset and is as wide as the fastest packets', () => {
    const theta = 5_000_000;
    const jitter = (i: number) => ((i * 7919) % 97) * 1000;
    const fwd = Array.from({ length: 50 }, (_, i) => 100_000 + jitter(i) + theta);
    const rev = Array.from({ length: 50 }, (_, i) => 120_000 + jitter(i + 3) - theta);
    const o = offsetFromMinimumDelays(fwd, rev);
    expect(Math.abs(o.offsetNs - theta)).toBeLessThanOrEqual(o.uncertaintyNs);
    expect(o.uncertaintyNs).toBe((Math.min(...fwd) + Math.min(...rev)) / 2); // ≈ the fastest one-way delay
    expect(o.uncertaintyNs).toBeLessThan(120_000);
    expect(() => offsetFromMinimumDelays(fwd, [])).toThrow(/both ways/);
  });
  test('drift: a clock 20 ppm fast is tracked, and the offset predicted between samples', () => {
    const track = new ClockTrack();
    for (let s = 0; s <= 600; s += 60)
      track.add({ offsetNs: 1e6 + 20e-6 * s * 1e9, uncertaintyNs: 50_000, method: 'x', atNs: s * 1e9 });
    const at = track.at(300.5e9);
    expect(at.driftPpm).toBeCloseTo(20, 6);
    expect(Math.abs(at.offsetNs - (1e6 + 20e-6 * 300.5e9))).toBeLessThan(1);
  });
  test('two bounds intersect; disjoint ones widen instead of inventing precision', () => {
    const a = { offsetNs: 100, uncertaintyNs: 50, method: 'a', atNs: 0 };
    expect(intersectOffsets(a, { offsetNs: 130, uncertaintyNs: 40, method: 'b', atNs: 0 })).toMatchObject({
      offsetNs: 120,
      uncertaintyNs: 30,
    });
    expect(intersectOffsets(a, { offsetNs: 1000, uncertaintyNs: 10, method: 'b', atNs: 0 })).toMatchObject({
      offsetNs: 530,
      uncertaintyNs: 480,
    });
  });
});

const NS = 'dr-clk';
const HOST_IF = 'dr-clk-h';
const NS_IF = 'dr-clk-n';
const HOST_IP = '10.254.41.1';
const SSHD_IP = '10.254.41.2';

describe.skipIf(process.getuid?.() !== 0)('an SSH capture point states its offset', () => {
  let sshd: Sshd | undefined;
  let ssh: Transport | undefined;
  beforeAll(async () => {
    await hostVeth({ ns: NS, hostIf: HOST_IF, nsIf: NS_IF, hostIp: HOST_IP, nsIp: SSHD_IP });
    sshd = await startSshd(NS, SSHD_IP);
    ssh = await openSsh({
      host: SSHD_IP,
      port: 22,
      username: 'root',
      privateKeyPath: sshd.privateKeyPath,
      knownHostsPath: sshd.knownHostsPath,
      sudo: false,
      readyTimeoutMs: 10_000,
    });
  });
  afterAll(async () => {
    try {
      await ssh?.close();
      await stopSshd(sshd);
    } finally {
      await deleteNamespace(NS);
      await shQuiet(['ip', 'link', 'del', HOST_IF]);
    }
  });

  test('exchange over SSH: offset and uncertainty stated; the same kernel clock lies inside the bound', async () => {
    const o = await exchangeClockOffset(ssh!, { samples: 12 });
    console.log(`SSH capture host ${SSHD_IP}: offset ${formatOffset(o)} — ${o.method}`);
    expect(o.uncertaintyNs).toBeGreaterThan(0);
    expect(o.uncertaintyNs).toBeLessThan(50e6);
    // sshd runs on this machine's kernel clock: the true offset is 0.
    expect(Math.abs(o.offsetNs)).toBeLessThanOrEqual(o.uncertaintyNs);
  });

  test('captures here and over SSH, one shifted 0.75 s by editcap: the minimum-delay method finds the shift', async () => {
    const here = join(tmp, 'here.pcap');
    const there = join(tmp, 'there.pcap');
    const caps = await startCaptures([
      {
        name: 'here',
        transport: new LocalTransport(),
        interface: HOST_IF,
        filter: 'udp port 9',
        teePath: here,
        discardPackets: true,
      },
      {
        name: 'there',
        transport: ssh!,
        interface: NS_IF,
        filter: 'udp port 9',
        teePath: there,
        discardPackets: true,
      },
    ]);
    try {
      await execa(udpBurstArgv(SSHD_IP, 9, 40)[0], udpBurstArgv(SSHD_IP, 9, 40).slice(1));
      await execa('ip', ['netns', 'exec', NS, ...udpBurstArgv(HOST_IP, 9, 40)]);
    } finally {
      for (const c of caps) await c.stop();
    }
    const moved = join(tmp, 'there+0.75.pcap');
    await execa('editcap', ['-t', '0.75', there, moved]);
    const d = await oneWayDelays(readPackets(here), readPackets(moved), [HOST_IP]);
    expect(d.forwardNs.length).toBeGreaterThan(30);
    expect(d.reverseNs.length).toBeGreaterThan(30);
    const o = offsetFromMinimumDelays(d.forwardNs, d.reverseNs);
    console.log(`minimum-delay estimate of the editcap shift: ${formatOffset(o)}`);
    expect(Math.abs(o.offsetNs - 0.75e9)).toBeLessThanOrEqual(o.uncertaintyNs);
    expect(o.uncertaintyNs).toBeLessThan(5e6);
  });
});
