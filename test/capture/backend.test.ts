/**
 * The CaptureBackend seam against real tcpdump in namespaces this file creates (cpt-cb-a ⇄ cpt-cb-b):
 * the tcpdump backend's per-point result, an unknown backend as bad input, and a second backend whose pcap
 * exists only after stop() and is fetched as bytes through the transport (the shape of VPP's pcap trace),
 * both in one session behind one start barrier. The pcaps are checked with tshark, not our reader.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CaptureBackend,
  type CapturePointRequest,
  fetchFile,
  registerCaptureBackend,
  startCaptureSession,
} from '../../src/capture/index.ts';
import { type CapturePointSpec, parseProfile } from '../../src/chain/profile.ts';
import { ChainprobeError } from '../../src/errors.ts';
import { liveProcesses, openTransport } from '../../src/transport/index.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { deleteNamespace, namespacePids, udpBurstArgv, vethPair } from '../transport/lab.ts';

const A = 'cpt-cb-a';
const B = 'cpt-cb-b';
const lab = { nsA: A, nsB: B, ifA: 'cpt-cb0', ifB: 'cpt-cb1', addrA: '10.254.11.1', addrB: '10.254.11.2' };
const isRoot = process.getuid?.() === 0;
let a: Transport;
let dir: string;

/** A capture point as a profile would give it (defaults filled by the schema). */
const point = (name: string, backend?: string): CapturePointSpec =>
  parseProfile({
    ...JSON.parse(readFileSync('fixtures/reference.json', 'utf8')),
    captures: [{ name, hop: 'vxlan', interface: lab.ifA, stage: 'ingress', ...(backend ? { backend } : {}) }],
  }).captures[0];

const request = (p: CapturePointSpec, filter: string): CapturePointRequest => ({
  point: p,
  transport: a,
  interface: lab.ifA,
  direction: 'out',
  filter,
  pcapPath: join(dir, `${p.name}.pcap`),
});

/**
 * A backend like VPP's `pcap trace`: the capture writes a file where it runs, which exists only once the
 * capture is stopped, then is fetched through the transport. (Here tcpdump -w stands in for VPP's writer.)
 */
const fileAtStop: CaptureBackend = {
  name: 'file-at-stop',
  async start(points) {
    const procs = points.map((p) => {
      const remote = `/tmp/cpt-cb-remote-${p.point.name}.pcap`;
      const proc = p.transport.spawn([
        'tcpdump',
        '-i',
        p.interface,
        '-Q',
        p.direction,
        '-n',
        '-U',
        '-w',
        remote,
        p.filter ?? '',
      ]);
      let err = '';
      proc.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      return { p, remote, proc, err: () => err };
    });
    for (const x of procs)
      while (!x.err().includes('listening on')) await new Promise((r) => setTimeout(r, 20));
    return {
      async stop() {
        await new Promise((r) => setTimeout(r, 1200)); // the ring's last block (REFCHAIN G9)
        return Promise.all(
          procs.map(async (x) => {
            x.proc.signal('SIGINT');
            await x.proc.exited;
            await fetchFile(x.p.transport, x.remote, x.p.pcapPath);
            await x.p.transport.run(['rm', '-f', x.remote]);
            return {
              name: x.p.point.name,
              backend: 'file-at-stop',
              pcapPath: x.p.pcapPath,
              stats: {
                captured: Number(/(\d+) packets? captured/.exec(x.err())?.[1]),
                receivedByFilter: 0,
                droppedByKernel: 0,
              },
              clock: { source: 'backend' as const, note: 'written at stop' },
              place: `${x.p.interface} at ${x.p.transport.description}`,
            };
          }),
        );
      },
      async abort() {
        for (const x of procs) x.proc.signal('SIGKILL');
      },
    };
  },
};

const tsharkCount = async (file: string) =>
  (await execa('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'udp.dstport'], { timeout: 30_000 })).stdout
    .split('\n')
    .filter(Boolean);

describe.skipIf(!isRoot && !process.env.CI)('capture backends', () => {
  beforeAll(async () => {
    await vethPair(lab);
    a = await openTransport({ kind: 'netns', namespace: A });
    dir = mkdtempSync(join(tmpdir(), 'cpt-cb-'));
    registerCaptureBackend(fileAtStop);
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

  it('tcpdump and a stop-time-file backend in one session: one pcap, counters and clock note per point', async () => {
    const live = point('live');
    expect(live.backend).toBe('tcpdump'); // the profile default
    const session = await startCaptureSession([
      request(live, 'udp dst port 9001'),
      request(point('traced', 'file-at-stop'), 'udp dst port 9001'),
    ]);
    await a.run(udpBurstArgv(lab.addrB, 9001, 500), { timeoutMs: 30_000 });
    const results = await session.stop({ settleMs: 1200 });
    expect(results.map((r) => [r.name, r.backend, r.clock.source])).toEqual([
      ['live', 'tcpdump', 'kernel'],
      ['traced', 'file-at-stop', 'backend'],
    ]);
    expect(results[0].stats).toMatchObject({ captured: 500, receivedByFilter: 500, droppedByKernel: 0 });
    expect(results[0].place).toBe(`${lab.ifA} at netns ${A}`);
    expect(results[1].stats?.captured).toBe(500);
    for (const r of results) expect(await tsharkCount(r.pcapPath)).toHaveLength(500);
    expect(await namespacePids(A)).toEqual([]);
    expect(liveProcesses()).toEqual([]);
  });

  it('fetchFile copies bytes exactly (every byte value) through the transport', async () => {
    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    const remote = join(dir, 'blob.bin');
    writeFileSync(remote, bytes);
    const local = join(dir, 'blob.copy');
    expect(await fetchFile(a, remote, local)).toBe(bytes.length);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(readFileSync(local))).toBe(sha(bytes));
    const e = await fetchFile(a, join(dir, 'nope'), local).catch((x: unknown) => x);
    expect((e as ChainprobeError).code).toBe('E_CAPTURE_FAILED');
    expect((e as Error).message).toContain('No such file');
  });

  it('an unknown backend is bad input before anything starts', async () => {
    const e = await startCaptureSession([request(point('odd', 'nosuch'), 'udp')]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ChainprobeError);
    expect((e as ChainprobeError).badInput).toBe(true);
    expect((e as Error).message).toContain('unknown capture backend "nosuch"; backends are tcpdump');
    expect(liveProcesses()).toEqual([]);
  });
});
