/**
 * Injection through the SSH and docker transports, against a real OpenSSH sshd and a real dockerd:
 *
 *   SSH:     host ─(10.254.77.0/24, management)─ cpr-ssh [sshd] ─veth 172.31.77.0/24, MTU 9000─ cpr-sink
 *            TcpreplayInjector and L2Injector run over SSH on cpr-inj-a, a netns capture counts on cpr-inj-b.
 *   Docker:  private dockerd, container (--network none, tcpreplay + iproute2 copied from the host, a bind
 *            mounted workDir) ─veth 172.31.78.0/24, MTU 9000─ cpr-dsink; TcpreplayInjector over docker exec.
 *
 * Each injection sends 1 000 probe frames at 2 000 pps (every tenth carries an 8 000-byte payload); the
 * capture must see exactly those 1 000 (seq 0..999, right lengths) with no kernel drops. Plus: a missing
 * interface at the remote place is E_NO_INTERFACE for every injector/transport.
 * Needs root, iproute2, openssh-server, ssh-keygen, tcpdump, tcpreplay, cc, docker.io (dockerd), nsenter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../../src/capture/index.ts';
import { ChainprobeError } from '../../src/errors.ts';
import { type Injector, type InjectStats, L2Injector, TcpreplayInjector } from '../../src/inject/index.ts';
import { liveProcesses, openTransport } from '../../src/transport/index.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { requiresRoot } from '../helpers/requires.ts';
import { type Engine, startEngine, stopEngine } from '../transport/docker-lab.ts';
import {
  commandsIn,
  deleteNamespace,
  type Sshd,
  sh,
  shQuiet,
  startSshd,
  stopSshd,
  vethPair,
} from '../transport/lab.ts';
import { importImageWith, probeFrames } from './remote-lab.ts';

const isRoot = requiresRoot('injection through SSH and docker exec');
const LAB = ['172.31.0.0/16'];
const N = 1000;
const RATE = 2000;
const SMALL = 64;
const JUMBO = 8000;
const PORT = 9999;

async function expectCode(p: Promise<unknown>, code: string): Promise<ChainprobeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ChainprobeError);
  expect((e as ChainprobeError).code, (e as Error).message).toBe(code);
  return e as ChainprobeError;
}

const macOf = async (argvPrefix: string[], ifn: string) =>
  JSON.parse(await sh([...argvPrefix, 'ip', '-j', 'link', 'show', 'dev', ifn]))[0].address as string;

/**
 * Capture on the sink (netns transport), inject N probe frames with `injector`, and check the capture: exactly
 * N packets, seq 0..N-1 each once with this run's runId, the right length per seq, no kernel drops.
 */
async function injectAndCount(
  injector: Injector,
  sink: Transport,
  sinkIf: string,
  f: { srcMac: string; dstMac: string; srcIp: string; dstIp: string },
  runId: number,
): Promise<InjectStats> {
  const frames = probeFrames({
    ...f,
    dstPort: PORT,
    runId,
    smallPayload: SMALL,
    jumboPayload: JUMBO,
    jumboEvery: 10,
  });
  const cap = await startCapture({
    name: `sink-${runId}`,
    transport: sink,
    interface: sinkIf,
    direction: 'in',
    filter: `udp dst port ${PORT}`,
  });
  const seen = new Map<number, number>(); // seq -> count
  const problems: string[] = [];
  const probeAt = frames.small.layout.probe; // same offset in both templates (Eth/IPv4/UDP)
  const consumed = (async () => {
    for await (const p of cap.packets) {
      const dv = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
      const seq = dv.getUint32(probeAt + 16);
      const rid = dv.getUint32(probeAt + 8);
      const want = frames.isJumbo(seq) ? frames.jumboLen : frames.smallLen;
      if (rid !== runId) problems.push(`runId ${rid} != ${runId}`);
      if (p.originalLength !== want || p.capturedLength !== want)
        problems.push(`seq ${seq}: length ${p.originalLength}/${p.capturedLength}, want ${want}`);
      seen.set(seq, (seen.get(seq) ?? 0) + 1);
    }
  })();
  let stats: InjectStats;
  try {
    stats = await injector.inject(frames.source, { count: N, ratePps: RATE });
  } catch (e) {
    await cap.abort();
    await consumed.catch(() => {});
    throw e;
  }
  const capStats = await cap.stop(); // default settle (1.2 s) > libpcap's 1 s TPACKET_V3 block timeout
  await consumed;
  expect(stats).toMatchObject({ sent: N, failed: 0, aborted: false });
  expect(stats.bytes).toBe(N * 0.9 * frames.smallLen + N * 0.1 * frames.jumboLen);
  expect(problems.slice(0, 5)).toEqual([]);
  expect(capStats).toMatchObject({ captured: N, droppedByKernel: 0 });
  expect(seen.size).toBe(N);
  expect([...seen.values()].every((c) => c === 1)).toBe(true);
  expect(Math.min(...seen.keys())).toBe(0);
  expect(Math.max(...seen.keys())).toBe(N - 1);
  // 1 000 frames at 2 000 pps: about half a second on the sender's clock.
  expect(stats.elapsedNs / 1e9).toBeGreaterThan(0.4);
  expect(stats.elapsedNs / 1e9).toBeLessThan(2);
  return stats;
}

describe.runIf(isRoot)('injection through SSH (real sshd in cpr-ssh)', () => {
  const NS = 'cpr-ssh';
  const SINK = 'cpr-sink';
  const IF_A = 'cpr-inj-a';
  const IF_B = 'cpr-inj-b';
  const IP_A = '172.31.77.1';
  const IP_B = '172.31.77.2';
  const HOST_IF = 'cpr-ssh-h';
  const MGMT_IF = 'cpr-ssh-m';
  const HOST_IP = '10.254.77.1';
  const SSHD_IP = '10.254.77.2';
  let sshd: Sshd | undefined;
  let ssh: Transport | undefined;
  let sshKh: Transport | undefined;
  let sink: Transport;
  let macs: { srcMac: string; dstMac: string; srcIp: string; dstIp: string };

  beforeAll(async () => {
    await shQuiet(['ip', 'link', 'del', HOST_IF]);
    await vethPair({ nsA: NS, nsB: SINK, ifA: IF_A, ifB: IF_B, addrA: IP_A, addrB: IP_B });
    for (const [ns, ifn] of [
      [NS, IF_A],
      [SINK, IF_B],
    ])
      await sh(['ip', '-n', ns, 'link', 'set', ifn, 'mtu', '9000']);
    // Management link host ⇄ cpr-ssh for the SSH connection itself.
    await sh(['ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', MGMT_IF, 'netns', NS]);
    await sh(['ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF]);
    await sh(['ip', 'link', 'set', HOST_IF, 'up']);
    await sh(['ip', '-n', NS, 'addr', 'add', `${SSHD_IP}/24`, 'dev', MGMT_IF]);
    await sh(['ip', '-n', NS, 'link', 'set', MGMT_IF, 'up']);
    const mgmtMac = await macOf(['ip', 'netns', 'exec', NS], MGMT_IF);
    await sh(['ip', 'neigh', 'replace', SSHD_IP, 'lladdr', mgmtMac, 'dev', HOST_IF, 'nud', 'permanent']);
    macs = {
      srcMac: await macOf(['ip', 'netns', 'exec', NS], IF_A),
      dstMac: await macOf(['ip', 'netns', 'exec', SINK], IF_B),
      srcIp: IP_A,
      dstIp: IP_B,
    };
    sshd = await startSshd(NS, SSHD_IP).catch((e: Error & { sshd?: Sshd }) => {
      sshd = e.sshd;
      throw e;
    });
    const base = {
      kind: 'ssh' as const,
      host: SSHD_IP,
      port: 22,
      username: 'root',
      privateKeyPath: sshd.privateKeyPath,
      sudo: false,
      readyTimeoutMs: 5000,
    };
    ssh = await openTransport({ ...base, hostKeyFingerprint: sshd.fingerprint });
    sshKh = await openTransport({ ...base, knownHostsPath: sshd.knownHostsPath });
    sink = await openTransport({ kind: 'netns', namespace: SINK });
  });

  afterAll(async () => {
    try {
      await ssh?.close();
      await sshKh?.close();
    } finally {
      try {
        await stopSshd(sshd);
      } finally {
        await deleteNamespace(NS);
        await deleteNamespace(SINK);
        await shQuiet(['ip', 'link', 'del', HOST_IF]);
      }
    }
  });

  it('the SSH session really runs in cpr-ssh', async () => {
    expect(ssh!.description).toBe(`ssh root@${SSHD_IP}:22`);
    expect((await ssh!.run(['ip', 'netns', 'identify'])).stdout.trim()).toBe(NS);
    expect((await ssh!.run(['ip', '-o', 'link', 'show', IF_A])).stdout).toContain('mtu 9000');
  });

  it('tcpreplay over SSH: 1 000 frames (incl. 8 000-byte payloads) at 2 000 pps arrive exactly', async () => {
    const inj = new TcpreplayInjector({ interface: IF_A, labPrefixes: LAB, transport: ssh });
    const stats = await injectAndCount(inj, sink, IF_B, macs, 7701);
    expect(stats.injector).toBe('tcpreplay');
    expect(stats.details).toMatchObject({ truncated: 0 });
    expect(await commandsIn(NS)).not.toContain('tcpreplay');
  });

  it('l2 (AF_PACKET helper) over SSH (known_hosts-verified): 1 000 frames arrive exactly', async () => {
    const inj = new L2Injector({ interface: IF_A, labPrefixes: LAB, transport: sshKh });
    const stats = await injectAndCount(inj, sink, IF_B, macs, 7702);
    expect(stats.injector).toBe('l2');
    expect(stats.details).toMatchObject({ mode: 'stream' }); // every frame differs: streamed over the channel
    expect((await commandsIn(NS)).filter((c) => c.includes('afpacket-tx'))).toEqual([]);
  });

  it('a missing interface at the SSH host → E_NO_INTERFACE, for both injectors', async () => {
    const frames = probeFrames({
      ...macs,
      dstPort: PORT,
      runId: 1,
      smallPayload: SMALL,
      jumboPayload: JUMBO,
      jumboEvery: 10,
    });
    for (const inj of [
      new TcpreplayInjector({ interface: 'cpr-nope0', labPrefixes: LAB, transport: ssh }),
      new L2Injector({ interface: 'cpr-nope0', labPrefixes: LAB, transport: ssh }),
    ]) {
      const e = await expectCode(inj.inject(frames.source, { count: 10, ratePps: RATE }), 'E_NO_INTERFACE');
      expect(e.message).toContain('cpr-nope0');
      expect(e.message).toContain(`ssh root@${SSHD_IP}:22`);
    }
  });

  it('no process is left behind', async () => {
    expect(liveProcesses()).toEqual([]);
    expect((await commandsIn(NS)).filter((c) => !c.includes('sshd'))).toEqual([]);
    expect(await commandsIn(SINK)).toEqual([]);
  });
});

describe.runIf(isRoot)('injection through docker exec (private dockerd)', () => {
  const SINK = 'cpr-dsink';
  const CT = 'cpr-dk-tcpreplay';
  const CT_IF = 'cpr-dk-c';
  const SINK_IF = 'cpr-dk-s';
  const CT_IP = '172.31.78.1';
  const SINK_IP = '172.31.78.2';
  let engine: Engine | undefined;
  let work: string | undefined;
  let t: Transport | undefined;
  let sink: Transport;
  let macs: { srcMac: string; dstMac: string; srcIp: string; dstIp: string };
  const docker = (args: string[]) => sh(['docker', '-H', engine!.host, ...args], 60_000);

  beforeAll(async () => {
    await deleteNamespace(SINK);
    await shQuiet(['ip', 'link', 'del', CT_IF]);
    work = mkdtempSync(join(tmpdir(), 'cpr-dkwork-'));
    engine = await startEngine();
    await importImageWith(engine, 'cpr-tcpreplay:1', ['/usr/bin/tcpreplay', '/usr/bin/ip']);
    await docker([
      'run',
      '-d',
      '--name',
      CT,
      '--network',
      'none',
      '-v',
      `${work}:${work}`,
      'cpr-tcpreplay:1',
      'sleep',
      '3600',
    ]);
    const pid = (await docker(['inspect', '-f', '{{.State.Pid}}', CT])).trim();
    const inCt = ['nsenter', '-t', pid, '-n'];
    await sh(['ip', 'netns', 'add', SINK]);
    await sh(['ip', 'link', 'add', CT_IF, 'type', 'veth', 'peer', 'name', SINK_IF, 'netns', SINK]);
    await sh(['ip', 'link', 'set', CT_IF, 'netns', pid]);
    await sh([...inCt, 'ip', 'link', 'set', CT_IF, 'mtu', '9000']);
    await sh([...inCt, 'ip', 'addr', 'add', `${CT_IP}/24`, 'dev', CT_IF]);
    await sh([...inCt, 'ip', 'link', 'set', CT_IF, 'up']);
    await sh(['ip', '-n', SINK, 'link', 'set', SINK_IF, 'mtu', '9000']);
    await sh(['ip', '-n', SINK, 'addr', 'add', `${SINK_IP}/24`, 'dev', SINK_IF]);
    await sh(['ip', '-n', SINK, 'link', 'set', SINK_IF, 'up']);
    await sh(['ip', '-n', SINK, 'link', 'set', 'lo', 'up']);
    macs = {
      srcMac: await macOf(inCt, CT_IF),
      dstMac: await macOf(['ip', 'netns', 'exec', SINK], SINK_IF),
      srcIp: CT_IP,
      dstIp: SINK_IP,
    };
    await sh([
      ...inCt,
      'ip',
      'neigh',
      'replace',
      SINK_IP,
      'lladdr',
      macs.dstMac,
      'dev',
      CT_IF,
      'nud',
      'permanent',
    ]);
    await sh([
      'ip',
      '-n',
      SINK,
      'neigh',
      'replace',
      CT_IP,
      'lladdr',
      macs.srcMac,
      'dev',
      SINK_IF,
      'nud',
      'permanent',
    ]);
    t = await openTransport({ kind: 'docker', container: CT, dockerHost: engine.host });
    sink = await openTransport({ kind: 'netns', namespace: SINK });
  });

  afterAll(async () => {
    try {
      await t?.close();
      if (engine)
        await execa('docker', ['-H', engine.host, 'rm', '-f', CT], { reject: false, timeout: 30_000 });
    } finally {
      try {
        await deleteNamespace(SINK);
        await shQuiet(['ip', 'link', 'del', CT_IF]);
        if (engine) await stopEngine(engine);
      } finally {
        if (work) rmSync(work, { recursive: true, force: true });
      }
    }
  });

  it('the container has tcpreplay, iproute2 and the veth, and no default route', async () => {
    const v = await t!.run(['tcpreplay', '-V']);
    expect(`${v.stdout}${v.stderr}`).toMatch(/tcpreplay version: 4\./);
    expect((await t!.run(['sh', '-c', 'command -v ip'])).stdout.trim()).toBe('/usr/bin/ip');
    expect((await t!.run(['ip', '-o', 'link', 'show', CT_IF])).stdout).toContain('mtu 9000');
    expect(JSON.parse((await t!.run(['ip', '-j', 'route', 'show', 'default'])).stdout)).toEqual([]);
  });

  it('tcpreplay over docker exec: 1 000 frames (incl. 8 000-byte payloads) at 2 000 pps arrive exactly', async () => {
    const inj = new TcpreplayInjector({ interface: CT_IF, labPrefixes: LAB, transport: t, workDir: work });
    const stats = await injectAndCount(inj, sink, SINK_IF, macs, 7801);
    expect(stats.injector).toBe('tcpreplay');
    expect(stats.details).toMatchObject({ truncated: 0 });
    expect((await t!.run(['ps', '-o', 'args'])).stdout).not.toMatch(/tcpreplay/);
    expect((await t!.run(['ls', work!])).stdout.trim()).toBe(''); // the pcap was removed
  });

  it('a missing interface in the container → E_NO_INTERFACE', async () => {
    const frames = probeFrames({
      ...macs,
      dstPort: PORT,
      runId: 1,
      smallPayload: SMALL,
      jumboPayload: JUMBO,
      jumboEvery: 10,
    });
    const inj = new TcpreplayInjector({
      interface: 'cpr-nope0',
      labPrefixes: LAB,
      transport: t,
      workDir: work,
    });
    const e = await expectCode(inj.inject(frames.source, { count: 10, ratePps: RATE }), 'E_NO_INTERFACE');
    expect(e.message).toContain('cpr-nope0');
    expect(e.message).toContain(`docker ${CT}`);
    expect(liveProcesses()).toEqual([]);
    expect(await commandsIn(SINK)).toEqual([]);
  });

  it('l2 in the container: the helper is built on this host, so it is not there → E_MISSING_TOOL, nothing left', async () => {
    // L2Injector compiles afpacket-tx into this host's ~/.cache/chainprobe and runs that path through the
    // transport: it works over SSH above only because that sshd shares this machine's filesystem.
    const frames = probeFrames({
      ...macs,
      dstPort: PORT,
      runId: 1,
      smallPayload: SMALL,
      jumboPayload: JUMBO,
      jumboEvery: 10,
    });
    const inj = new L2Injector({ interface: CT_IF, labPrefixes: LAB, transport: t });
    const e = await expectCode(inj.inject(frames.source, { count: 10, ratePps: RATE }), 'E_MISSING_TOOL');
    expect(e.message).toMatch(/afpacket-tx-[0-9a-f]+: command not found \(docker cpr-dk-tcpreplay\)/);
    expect(liveProcesses()).toEqual([]);
    expect((await t!.run(['ps', '-o', 'args'])).stdout).not.toMatch(/afpacket/);
  });
});
