/**
 * Live capture + journey analysis (issue target: "4 capture points × 50 k pps with 0 kernel drops").
 *
 * Lab (root): cpb-a ─veth─ cpb-b (forwards) ─veth─ cpb-c, MTU 9000, static neighbours, no IPv6. The probe
 * stream (Ethernet/IPv4/UDP, 100-byte probe payload, one createIpv4UdpTemplate patched per seq) goes
 * 172.31.201.1 → 172.31.203.9; cpb-b routes it to cpb-c, which forwards it into a blackhole route (no ICMP
 * back-scatter). Four capture points: a-out (cpbA, out), b-in (cpbB1, in), b-out (cpbB2, out), c-in (cpbC,
 * in), each tcpdump through the netns transport, streamed into Node (decoded and discarded) and teed to a
 * pcap file. After the injection: tcpdump's counters per point, then analyzeCaptures over the four files.
 *
 * Loss is attributed separately: injector (sent < count, failed), capture (tcpdump "dropped by kernel",
 * or captured < probes seen further down), chain (journey lostHere where the capture dropped nothing).
 * Capture loss is never counted as chain loss. Needs root; about 1–2 minutes.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { analyzeCaptures } from '../src/analyze/analyze.ts';
import { type Capture, startCaptures } from '../src/capture/index.ts';
import type { CaptureStats } from '../src/capture/tcpdump.ts';
import { parseProfile } from '../src/chain/profile.ts';
import { createIpv4UdpTemplate } from '../src/codec/template.ts';
import { L2Injector } from '../src/inject/l2.ts';
import type { FrameSource, InjectStats } from '../src/inject/types.ts';
import { openTransport } from '../src/transport/index.ts';
import type { Transport } from '../src/transport/transport.ts';
import type { BenchFigure } from './figure.ts';

const NS = { a: 'cpb-a', b: 'cpb-b', c: 'cpb-c' } as const;
const IF = { a: 'cpbA', b1: 'cpbB1', b2: 'cpbB2', c: 'cpbC' } as const;
const MAC = {
  a: '02:cb:00:00:01:01',
  b1: '02:cb:00:00:01:02',
  b2: '02:cb:00:00:02:01',
  c: '02:cb:00:00:02:02',
} as const;
const IP = { a: '172.31.201.1', b1: '172.31.201.2', b2: '172.31.202.1', c: '172.31.202.2' } as const;
const DST = '172.31.203.9'; // routed by cpb-b to cpb-c, blackholed there
const LAB = ['172.31.0.0/16'];
const PAYLOAD = 100;
const BUFFER_KIB = Number(process.env.CPB_BUFFER_KIB ?? 65_536);
const MAIN = { pps: 50_000, seconds: 3 };
const LADDER = (process.env.CPB_LADDER ?? '50000,100000,150000,200000').split(',').map(Number);
const LADDER_S = 2;

const POINTS = [
  { name: 'a-out', hop: 'a', ns: NS.a, iface: IF.a, direction: 'out' },
  { name: 'b-in', hop: 'b', ns: NS.b, iface: IF.b1, direction: 'in' },
  { name: 'b-out', hop: 'b', ns: NS.b, iface: IF.b2, direction: 'out' },
  { name: 'c-in', hop: 'c', ns: NS.c, iface: IF.c, direction: 'in' },
] as const;

const run = (...args: string[]) => execa(args[0], args.slice(1), { timeout: 15_000 });
const nsx = (ns: string, ...args: string[]) => run('ip', 'netns', 'exec', ns, ...args);

async function labDown(): Promise<void> {
  for (const ns of Object.values(NS)) {
    const pids = await execa('ip', ['netns', 'pids', ns], { reject: false });
    for (const p of String(pids.stdout).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {}
    }
    await execa('ip', ['netns', 'del', ns], { reject: false });
  }
}

async function labUp(): Promise<void> {
  await labDown();
  for (const ns of Object.values(NS)) {
    await run('ip', 'netns', 'add', ns);
    await run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    for (const k of ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
      await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', k], { reject: false });
  }
  await run('ip', 'link', 'add', IF.a, 'netns', NS.a, 'type', 'veth', 'peer', 'name', IF.b1, 'netns', NS.b);
  await run('ip', 'link', 'add', IF.b2, 'netns', NS.b, 'type', 'veth', 'peer', 'name', IF.c, 'netns', NS.c);
  for (const [ns, ifn, mac, addr] of [
    [NS.a, IF.a, MAC.a, IP.a],
    [NS.b, IF.b1, MAC.b1, IP.b1],
    [NS.b, IF.b2, MAC.b2, IP.b2],
    [NS.c, IF.c, MAC.c, IP.c],
  ] as const) {
    await run('ip', '-n', ns, 'link', 'set', ifn, 'address', mac, 'mtu', '9000');
    await run('ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', ifn);
    await run('ip', '-n', ns, 'link', 'set', ifn, 'up');
  }
  // static neighbours: nothing waits for (or is lost to) ARP
  const neigh = (ns: string, ip: string, mac: string, dev: string) =>
    run('ip', '-n', ns, 'neigh', 'replace', ip, 'lladdr', mac, 'dev', dev, 'nud', 'permanent');
  await neigh(NS.a, IP.b1, MAC.b1, IF.a);
  await neigh(NS.b, IP.a, MAC.a, IF.b1);
  await neigh(NS.b, IP.c, MAC.c, IF.b2);
  await neigh(NS.c, IP.b2, MAC.b2, IF.c);
  for (const ns of [NS.b, NS.c]) {
    await nsx(ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    for (const k of ['all', 'default', IF.b1, IF.b2, IF.c])
      await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv4.conf.${k}.rp_filter=0`], {
        reject: false,
      });
  }
  await run('ip', '-n', NS.b, 'route', 'add', '172.31.203.0/24', 'via', IP.c, 'dev', IF.b2);
  await run('ip', '-n', NS.c, 'route', 'add', 'blackhole', '172.31.203.0/24');
}

const profile = parseProfile({
  schemaVersion: 1,
  name: 'cpb-routed',
  description: 'bench/capture.ts: plain routed two-hop chain, one stage (no transform)',
  labPrefixes: LAB,
  traffic: {
    // unused by the analysis of a plain IPv4/UDP stream (the profile schema asks for it)
    outer: {
      srcMac: MAC.a,
      dstMac: MAC.b1,
      srcIp: IP.a,
      dstIp: DST,
      srcPortBase: 50000,
      dstPort: 4789,
      vni: 1,
      vxlanFlags: 8,
    },
    inner: { srcMac: MAC.a, dstMac: MAC.b1, srcIp: IP.a, dstIp: DST, srcPort: 40001, dstPort: 9000 },
  },
  stages: [{ name: 'routed' }],
  hops: [
    { name: 'a', transport: { kind: 'netns', namespace: NS.a } },
    { name: 'b', transport: { kind: 'netns', namespace: NS.b } },
    { name: 'c', transport: { kind: 'netns', namespace: NS.c } },
  ],
  injector: { transport: { kind: 'netns', namespace: NS.a }, interface: IF.a },
  captures: POINTS.map((p) => ({
    name: p.name,
    hop: p.hop,
    interface: p.iface,
    stage: 'routed',
    direction: p.direction,
  })),
  acceptance: { minDeliveryRatio: 1 },
});

interface PointOutcome {
  name: string;
  stats: CaptureStats;
  seen: number;
  lostHere: number;
  fileBytes: number;
}

interface Trial {
  pps: number;
  count: number;
  inject: InjectStats;
  points: PointOutcome[];
  delivered: number;
  sent: number;
  kernelDrops: number;
  analysisS: number;
  analysedPackets: number;
  /** offered rate as the captures saw it: probes / (last sighting − first sighting) */
  wirePps: number;
  violations: number;
  lossless: boolean;
  where: string;
}

let runId = 0x0cb00000;

async function trial(
  transports: Record<string, Transport>,
  dir: string,
  pps: number,
  seconds: number,
  stream = false,
): Promise<Trial> {
  const count = pps * seconds;
  const id = ++runId;
  const tpl = createIpv4UdpTemplate({
    payloadBytes: PAYLOAD,
    runId: id,
    flowId: 1,
    ethernet: { srcMac: MAC.a, dstMac: MAC.b1 },
    srcIp: IP.a,
    dstIp: DST,
    srcPort: 40001,
    dstPort: 9000,
    ttl: 64,
  });
  const t0 = process.hrtime.bigint();
  // period = count: the helper gets every (distinct) frame up front and paces them natively, so Node's CPU
  // during the send is left to the four live capture streams.
  const frames: FrameSource = {
    kind: 'ethernet',
    maxLengthBytes: tpl.frame.length,
    ...(stream ? {} : { period: count }),
    next: (i) => tpl.patch(i, t0 + BigInt(i) * 1000n),
  };
  const files = POINTS.map((p) => join(dir, `${id}-${p.name}.pcap`));
  const captures: Capture[] = await startCaptures(
    POINTS.map((p, i) => ({
      name: p.name,
      transport: transports[p.ns],
      interface: p.iface,
      direction: p.direction,
      teePath: files[i],
      discardPackets: true,
      bufferKiB: BUFFER_KIB,
    })),
  );
  let inject: InjectStats;
  const stats: CaptureStats[] = [];
  try {
    const injector = new L2Injector({
      interface: IF.a,
      labPrefixes: LAB,
      transport: transports[NS.a],
      // qdisc bypass skips the taps too: the a-out capture would see nothing
      qdiscBypass: false,
    });
    inject = await injector.inject(frames, { ratePps: pps, count });
    for (const c of captures) stats.push(await c.stop({ settleMs: 1200, quietMs: 300 }));
  } catch (e) {
    await Promise.allSettled(captures.map((c) => c.abort()));
    throw e;
  }

  const a0 = process.hrtime.bigint();
  const res = await analyzeCaptures({
    profile,
    captures: POINTS.map((p, i) => ({ name: p.name, source: files[i] })),
    runId: id,
    injected: inject.sent,
    captureCounters: POINTS.map((p, i) => ({
      capture: p.name,
      receivedByFilter: stats[i].receivedByFilter,
      droppedByKernel: stats[i].droppedByKernel,
      droppedByInterface: stats[i].droppedByInterface ?? null,
    })),
  });
  const analysisS = Number(process.hrtime.bigint() - a0) / 1e9;
  const points: PointOutcome[] = POINTS.map((p, i) => ({
    name: p.name,
    stats: stats[i],
    seen: res.hops[i].seen,
    lostHere: res.hops[i].lostHere,
    fileBytes: statSync(files[i]).size,
  }));
  for (const f of files) rmSync(f, { force: true });
  const analysedPackets = res.hops.reduce((s, h) => s + h.packets, 0);
  const kernelDrops = points.reduce((s, p) => s + p.stats.droppedByKernel, 0);
  const violations =
    res.sourceIp.violations + res.nat.violations + res.fragmentation.violations + res.esp.violations;
  const injectorOk = inject.sent === count && inject.failed === 0;
  const allSeen = points.every((p) => p.seen === count);
  const lossless = injectorOk && kernelDrops === 0 && allSeen && res.delivered === count;
  // Where packets went missing: injector, capture (kernel drops), or the chain.
  const where: string[] = [];
  if (!injectorOk) where.push(`injector sent ${inject.sent}/${count} (${inject.failed} failed)`);
  for (const p of points) {
    if (p.stats.droppedByKernel > 0)
      where.push(`${p.name}: capture dropped ${p.stats.droppedByKernel} in the kernel (capture loss)`);
    else if (p.seen < inject.sent)
      where.push(`${p.name}: seen ${p.seen}/${inject.sent} with 0 kernel drops (lostHere ${p.lostHere})`);
  }
  if (violations) where.push(`${violations} probe violations`);
  return {
    pps,
    count,
    inject,
    points,
    delivered: res.delivered,
    sent: res.sent,
    kernelDrops,
    analysisS,
    analysedPackets,
    wirePps: res.run.durationNs > 0 ? (inject.sent * 1e9) / res.run.durationNs : 0,
    violations,
    lossless,
    where: where.join('; ') || 'nothing lost',
  };
}

function describeTrial(t: Trial): string {
  const pts = t.points
    .map(
      (p) =>
        `${p.name} seen ${p.seen} drops ${p.stats.droppedByKernel} (captured ${p.stats.captured}, filter ${p.stats.receivedByFilter})`,
    )
    .join(', ');
  return `${t.pps} pps × ${t.count / t.pps} s: injector ${t.inject.sent}/${t.count} at ${Math.round(t.inject.achievedPpsSender)} pps (sender clock), ${Math.round(t.wirePps)} pps in the captures; analysis ${Math.round(t.analysedPackets / t.analysisS)} pkt/s; ${pts}; delivered ${t.delivered}/${t.sent}; ${t.where}`;
}

export default async function captureBench(): Promise<BenchFigure[]> {
  if (process.getuid?.() !== 0) throw new Error('bench capture needs root (namespaces, tcpdump)');
  const dir = mkdtempSync(join(tmpdir(), 'cpb-bench-capture-'));
  const figures: BenchFigure[] = [];
  try {
    await labUp();
    const transports: Record<string, Transport> = {};
    for (const ns of Object.values(NS))
      transports[ns] = await openTransport({ kind: 'netns', namespace: ns });
    const env = `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs; tcpdump -B ${BUFFER_KIB} KiB; ${PAYLOAD} B probe payload (142 B frames)`;

    // 1. the target: 4 points × 50 k pps, ~3 s
    const m = await trial(transports, dir, MAIN.pps, MAIN.seconds);
    console.log(`    ${describeTrial(m)}`);
    for (const p of m.points) {
      figures.push({
        group: 'capture',
        name: `kernel drops at ${p.name}, ${MAIN.pps / 1000} k pps × ${MAIN.seconds} s`,
        unit: 'packets',
        value: p.stats.droppedByKernel,
        target: '0',
        pass: p.stats.droppedByKernel === 0,
        notes: `captured ${p.stats.captured}, received by filter ${p.stats.receivedByFilter}`,
      });
      figures.push({
        group: 'capture',
        name: `probes seen at ${p.name}, ${MAIN.pps / 1000} k pps × ${MAIN.seconds} s`,
        unit: 'probes',
        value: p.seen,
        target: `= sent (${m.inject.sent})`,
        pass: p.seen === m.inject.sent,
        notes: p.lostHere ? `lostHere ${p.lostHere}` : undefined,
      });
    }
    figures.push({
      group: 'capture',
      name: `delivered (seen at c-in), ${MAIN.pps / 1000} k pps × ${MAIN.seconds} s`,
      unit: 'probes',
      value: m.delivered,
      target: `= sent (${m.count})`,
      pass: m.lossless,
      notes: `${m.where}; injector (l2, loop mode, qdisc bypass off) ${Math.round(m.inject.achievedPpsSender)} pps by its own clock, ${Math.round(m.wirePps)} pps in the captures; ${env}`,
    });
    figures.push({
      group: 'capture',
      name: `journey analysis throughput (4 pcap files, ${m.analysedPackets.toLocaleString('en-US')} packets)`,
      unit: 'packets/s',
      value: m.analysedPackets / m.analysisS,
      notes: `${m.analysisS.toFixed(2)} s wall; ${Math.round(m.sent / m.analysisS).toLocaleString('en-US')} probes/s (journeys)`,
    });

    // 1b. the same with the template patched per frame in Node while the four streams are decoded there
    const st = await trial(transports, dir, MAIN.pps, MAIN.seconds, true);
    console.log(`    (stream mode) ${describeTrial(st)}`);
    figures.push({
      group: 'capture',
      name: `kernel drops, all 4 points, ${MAIN.pps / 1000} k pps × ${MAIN.seconds} s, frames streamed from Node`,
      unit: 'packets',
      value: st.kernelDrops,
      target: '0',
      pass: st.lossless,
      notes: `per point ${st.points.map((p) => `${p.name} ${p.stats.droppedByKernel} drops/${p.seen} seen`).join(', ')}; delivered ${st.delivered}/${st.count}; ${Math.round(st.wirePps)} pps in the captures; ${st.where}`,
    });

    // 2. rate search: the knee = last rate before the first one that is not lossless
    let best = 0;
    const seen: string[] = [];
    for (const pps of LADDER) {
      const t = await trial(transports, dir, pps, LADDER_S);
      console.log(`    ${describeTrial(t)}`);
      seen.push(
        `${pps / 1000}k requested (${Math.round(t.wirePps / 1000)}k offered): drops ${t.points.map((p) => p.stats.droppedByKernel).join('/')}, delivered ${t.delivered}/${t.count}, analysis ${Math.round(t.analysedPackets / t.analysisS).toLocaleString('en-US')} pkt/s${t.lossless ? '' : ` (${t.where})`}`,
      );
      if (!t.lossless) break;
      // a rate counts as reached only as far as the injector actually offered it (captures' timestamps)
      best = Math.max(best, Math.round(Math.min(pps, t.wirePps)));
    }
    figures.push({
      group: 'capture',
      name: 'highest offered rate with 0 kernel drops at all 4 points and every probe delivered and seen',
      unit: 'pps',
      value: best,
      target: `>= ${MAIN.pps}`,
      pass: best >= MAIN.pps,
      notes: `${LADDER_S} s trials (offered = probes / capture time span; below the request means the injector was the limit): ${seen.join('; ')}`,
    });
    return figures;
  } finally {
    await labDown();
    rmSync(dir, { recursive: true, force: true });
  }
}
