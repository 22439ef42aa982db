/**
 * Capture points against real tcpdump in namespaces this file creates (cpt-cap-a ⇄ cpt-cap-b over a veth).
 * Needs root, iproute2, tcpdump, /usr/bin/python3.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureOptionsForPoint,
  checkFilter,
  filterForStage,
  parseTcpdumpStats,
  startCapture,
  startCaptures,
} from '../../src/capture/index.ts';
import { loadProfile } from '../../src/chain/profile.ts';
import { ChainprobeError } from '../../src/errors.ts';
import type { PcapPacket } from '../../src/pcap/index.ts';
import { liveProcesses, openTransport } from '../../src/transport/index.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { deleteNamespace, namespacePids, udpBurstArgv, vethPair } from '../transport/lab.ts';

const A = 'cpt-cap-a';
const B = 'cpt-cap-b';
const lab = { nsA: A, nsB: B, ifA: 'cpt-cap0', ifB: 'cpt-cap1', addrA: '10.254.10.1', addrB: '10.254.10.2' };
let a: Transport;
let dir: string;

beforeAll(async () => {
  await vethPair(lab);
  a = await openTransport({ kind: 'netns', namespace: A });
  dir = mkdtempSync(join(tmpdir(), 'cpt-cap-'));
});

afterAll(async () => {
  try {
    await a?.close();
  } finally {
    await deleteNamespace(A);
    await deleteNamespace(B);
    rmSync(dir, { recursive: true, force: true });
  }
});

async function expectCode(p: Promise<unknown>, code: string): Promise<ChainprobeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ChainprobeError);
  expect((e as ChainprobeError).code, (e as Error).message).toBe(code);
  return e as ChainprobeError;
}

describe('capture through a netns transport', () => {
  it('sees exactly 10 000 UDP packets of a burst, with ns timestamps and matching counters', async () => {
    const teePath = join(dir, 'burst.pcap');
    const cap = await startCapture({
      name: 'burst',
      transport: a,
      interface: lab.ifA,
      direction: 'out',
      filter: 'udp dst port 9999',
      teePath,
    });
    let n = 0;
    let subUs = 0;
    let prev = 0n;
    let monotonic = true;
    const consumed = (async () => {
      for await (const p of cap.packets) {
        n++;
        if (p.timestampNs % 1000n !== 0n) subUs++; // ns precision: not all multiples of 1 µs
        if (p.timestampNs < prev) monotonic = false;
        prev = p.timestampNs;
        expect(p.originalLength).toBe(14 + 20 + 8 + 64);
      }
    })();
    const sent = await a.run(udpBurstArgv(lab.addrB, 9999, 10_000), { timeoutMs: 60_000 });
    expect(sent.exitCode, sent.stderr).toBe(0);
    const stats = await cap.stop();
    await consumed;
    expect(n).toBe(10_000);
    expect(stats).toMatchObject({ captured: 10_000, receivedByFilter: 10_000, droppedByKernel: 0 });
    expect(subUs).toBeGreaterThan(0);
    expect(monotonic).toBe(true);
    expect(statSync(teePath).size).toBe(24 + 10_000 * (16 + 106));
    expect(liveProcesses()).toEqual([]);
  });

  it('onPacket callback mode and a stop with nothing captured', async () => {
    const seen: PcapPacket[] = [];
    const cap = await startCapture({
      name: 'cb',
      transport: a,
      interface: lab.ifA,
      filter: 'udp dst port 9998',
      onPacket: (p) => seen.push(p),
    });
    await a.run(udpBurstArgv(lab.addrB, 9998, 100), { timeoutMs: 30_000 });
    const stats = await cap.stop();
    expect(seen.length).toBe(100);
    expect(stats.captured).toBe(100);
    const idle = await startCapture({
      name: 'idle',
      transport: a,
      interface: lab.ifA,
      filter: 'udp dst port 1',
      discardPackets: true,
    });
    expect(await idle.stop({ settleMs: 200 })).toMatchObject({ captured: 0, droppedByKernel: 0 });
  });

  it('tcpdump SIGKILLed mid-run → E_CAPTURE_FAILED from the iterator and stop(), nothing left behind', async () => {
    const cap = await startCapture({
      name: 'victim',
      transport: a,
      interface: lab.ifA,
      filter: 'udp dst port 9997',
    });
    const it = cap.packets[Symbol.asyncIterator]();
    await a.run(udpBurstArgv(lab.addrB, 9997, 10), { timeoutMs: 30_000 });
    const pids = await namespacePids(A); // only tcpdump runs in cpt-cap-a now
    expect(pids.length).toBe(1);
    process.kill(pids[0], 'SIGKILL');
    const drained = (async () => {
      for (;;) if ((await it.next()).done) return;
    })();
    const e = await expectCode(drained, 'E_CAPTURE_FAILED');
    expect(e.message).toMatch(/SIGKILL/);
    expect(e.message).toMatch(/victim/);
    await expectCode(cap.stop(), 'E_CAPTURE_FAILED');
    expect(await namespacePids(A)).toEqual([]);
    expect(liveProcesses()).toEqual([]);
  });

  it('missing interface → E_NO_INTERFACE', async () => {
    const e = await expectCode(
      startCapture({ name: 'ghost', transport: a, interface: 'cpt-nope0' }),
      'E_NO_INTERFACE',
    );
    expect(e.message).toMatch(/cpt-nope0/);
    expect(liveProcesses()).toEqual([]);
  });

  it('startCaptures is a barrier: all listening, or the others are stopped and the failing point is named', async () => {
    const ok = await startCaptures([
      { name: 'one', transport: a, interface: lab.ifA, discardPackets: true },
      { name: 'two', transport: a, interface: 'lo', discardPackets: true },
    ]);
    expect(ok).toHaveLength(2);
    await Promise.all(ok.map((c) => c.stop({ settleMs: 100 })));
    const e = await expectCode(
      startCaptures([
        { name: 'good', transport: a, interface: lab.ifA },
        { name: 'bad', transport: a, interface: 'cpt-missing' },
      ]),
      'E_NO_INTERFACE',
    );
    expect(e.message).toMatch(/"bad"/);
    expect(e.details).toEqual({ points: ['bad'] });
    expect(await namespacePids(A)).toEqual([]);
    expect(liveProcesses()).toEqual([]);
  });

  it('a bad filter is a bad-input E_CAPTURE_FAILED', async () => {
    const e = await expectCode(
      startCapture({ name: 'typo', transport: a, interface: lab.ifA, filter: 'udp prot 9' }),
      'E_CAPTURE_FAILED',
    );
    expect(e.badInput).toBe(true);
  });
});

describe('filters from profiles', () => {
  for (const fixture of ['reference', 'vpp-testing']) {
    it(`every stage of ${fixture} has a filter that compiles (tcpdump -d)`, async () => {
      const profile = loadProfile(join(import.meta.dirname, '../../fixtures', `${fixture}.json`));
      for (const s of profile.stages) await checkFilter(filterForStage(profile, s.name));
      expect(filterForStage(profile, 'ingress')).toContain('udp[12:4] & 0xffffff00 = 25600'); // VNI 100
      expect(filterForStage(profile, 'nat')).toContain('dst host 172.20.102.10');
      expect(filterForStage(profile, 'wire')).toContain('ip[6:2] & 0x1fff != 0');
      // flow export: inner stages by the exporters' ports (the collector address is the chain's), the
      // VXLAN and ESP stages as for probes
      const flow = { flowPorts: [2055, 6343, 2055] };
      for (const s of profile.stages) await checkFilter(filterForStage(profile, s.name, flow));
      expect(filterForStage(profile, 'nat', flow)).toBe(
        'ip and ((udp dst port 2055 or udp dst port 6343) or (ip[6:2] & 0x1fff != 0))',
      );
      expect(filterForStage(profile, 'wire', flow)).toBe(filterForStage(profile, 'wire'));
      const wire = captureOptionsForPoint(profile, 'wire', a);
      expect(wire).toMatchObject({
        name: 'wire',
        interface: expect.any(String),
        filter: filterForStage(profile, 'wire'),
      });
    });
  }

  it('parses tcpdump exit counters', () => {
    expect(
      parseTcpdumpStats(
        'tcpdump: listening on x\n5 packets captured\n7 packets received by filter\n2 packets dropped by kernel\n1 packet dropped by interface\n',
      ),
    ).toEqual({
      captured: 5,
      receivedByFilter: 7,
      droppedByKernel: 2,
      droppedByInterface: 1,
    });
    expect(parseTcpdumpStats('tcpdump: listening on x\n')).toBeUndefined();
  });
});
