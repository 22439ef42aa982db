/**
 * docker transport and a capture through `docker exec`, against a real engine this file starts
 * (see docker-lab.ts) and tears down. The tcpdump container gets a veth from the host (10.254.30.1 ⇄ .2).
 * Needs root, docker.io (dockerd, containerd, runc), iproute2, nsenter, tcpdump, /usr/bin/python3.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../../src/capture/index.ts';
import { ChainprobeError } from '../../src/errors.ts';
import { liveProcesses, openTransport } from '../../src/transport/index.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { type Engine, importImage, startEngine, stopEngine } from './docker-lab.ts';
import { HOSTILE, sh, shQuiet, udpBurstArgv } from './lab.ts';

const HOST_IF = 'cpt-dk-h';
const CT_IF = 'cpt-dk-c';
const HOST_IP = '10.254.30.1';
const CT_IP = '10.254.30.2';
let engine: Engine | undefined;
let t: Transport;
const timings: Record<string, number> = {};

async function expectCode(p: Promise<unknown>, code: string): Promise<ChainprobeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ChainprobeError);
  expect((e as ChainprobeError).code, (e as Error).message).toBe(code);
  return e as ChainprobeError;
}

const docker = (args: string[]) => sh(['docker', '-H', engine!.host, ...args], 60_000);

beforeAll(async () => {
  await shQuiet(['ip', 'link', 'del', HOST_IF]);
  engine = await startEngine();
  timings.dockerdReadyMs = engine.startMs;
  let t0 = Date.now();
  await importImage(engine, 'cpt-tcpdump:1', true);
  await importImage(engine, 'cpt-busybox:1', false);
  timings.imagesMs = Date.now() - t0;
  t0 = Date.now();
  await docker([
    'run',
    '-d',
    '--name',
    'cpt-dk-tcpdump',
    '--network',
    'none',
    'cpt-tcpdump:1',
    'sleep',
    '3600',
  ]);
  await docker([
    'run',
    '-d',
    '--name',
    'cpt-dk-plain',
    '--network',
    'none',
    'cpt-busybox:1',
    'sleep',
    '3600',
  ]);
  await docker(['create', '--name', 'cpt-dk-stopped', 'cpt-busybox:1', 'true']);
  timings.containersMs = Date.now() - t0;
  const pid = (await docker(['inspect', '-f', '{{.State.Pid}}', 'cpt-dk-tcpdump'])).trim();
  await sh(['ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', CT_IF]);
  await sh(['ip', 'link', 'set', CT_IF, 'netns', pid]);
  await sh(['ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF]);
  await sh(['ip', 'link', 'set', HOST_IF, 'up']);
  await sh(['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', 'addr', 'add', `${CT_IP}/24`, 'dev', CT_IF]);
  await sh(['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', 'link', 'set', CT_IF, 'up']);
  // Static neighbour: a burst into an unresolved neighbour would lose packets while ARP resolves.
  const mac = JSON.parse(
    await sh(['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', '-j', 'link', 'show', CT_IF]),
  )[0].address;
  await sh(['ip', 'neigh', 'replace', CT_IP, 'lladdr', mac, 'dev', HOST_IF, 'nud', 'permanent']);
  t = await openTransport({ kind: 'docker', container: 'cpt-dk-tcpdump', dockerHost: engine.host });
});

afterAll(async () => {
  try {
    await t?.close();
    if (engine)
      await execa(
        'docker',
        ['-H', engine.host, 'rm', '-f', 'cpt-dk-tcpdump', 'cpt-dk-plain', 'cpt-dk-stopped'],
        { reject: false, timeout: 30_000 },
      );
  } finally {
    await shQuiet(['ip', 'link', 'del', HOST_IF]);
    if (engine) await stopEngine(engine);
    console.log('docker timings (ms):', JSON.stringify(timings));
  }
});

describe('docker transport', () => {
  it('runs commands in the container, with input and hostile arguments', async () => {
    expect(t.description).toBe('docker cpt-dk-tcpdump');
    expect(await t.run(['sh', '-c', 'echo out; echo err >&2; exit 4'])).toEqual({
      stdout: 'out\n',
      stderr: 'err\n',
      exitCode: 4,
    });
    expect((await t.run(['cat'], { input: 'into the container' })).stdout).toBe('into the container');
    expect((await t.run(['printf', '%s\\n', ...HOSTILE])).stdout).toBe(HOSTILE.map((s) => `${s}\n`).join(''));
  });

  it('signals the process in the container (not just the CLI), times out, reaps', async () => {
    const p = t.spawn(['sleep', '300']);
    await new Promise((r) => setTimeout(r, 500));
    p.signal('SIGTERM');
    const st = await p.exited;
    expect(st.exitCode === 143 || st.signal === 'SIGTERM').toBe(true); // the CLI reports 128+15
    await expectCode(t.run(['sleep', '301'], { timeoutMs: 800 }), 'E_TIMEOUT');
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.run(['ps', '-o', 'args'])).stdout).not.toMatch(/sleep 30[01]/);
    expect(liveProcesses()).toEqual([]);
  });

  it('missing, stopped container and unreachable engine are E_UNREACHABLE; missing command E_MISSING_TOOL', async () => {
    const missing = await expectCode(
      openTransport({ kind: 'docker', container: 'cpt-dk-nope', dockerHost: engine!.host }),
      'E_UNREACHABLE',
    );
    expect(missing.message).toMatch(/cpt-dk-nope.*does not exist/);
    const stopped = await expectCode(
      openTransport({ kind: 'docker', container: 'cpt-dk-stopped', dockerHost: engine!.host }),
      'E_UNREACHABLE',
    );
    expect(stopped.message).toMatch(/not running \(status: created\)/);
    await expectCode(
      openTransport({ kind: 'docker', container: 'x', dockerHost: 'unix:///nonexistent/cpt.sock' }),
      'E_UNREACHABLE',
    );
    await expectCode(t.run(['cpt-no-such-tool']), 'E_MISSING_TOOL');
  });

  it('a capture through docker exec sees the packets sent into the container', async () => {
    const cap = await startCapture({
      name: 'in-docker',
      transport: t,
      interface: CT_IF,
      direction: 'in',
      filter: 'udp dst port 9999',
    });
    let n = 0;
    const consumed = (async () => {
      for await (const _ of cap.packets) n++;
    })();
    const sent = await execa('/usr/bin/python3', udpBurstArgv(CT_IP, 9999, 1000).slice(1), {
      timeout: 30_000,
    });
    expect(sent.exitCode).toBe(0);
    const stats = await cap.stop();
    await consumed;
    expect(n).toBe(1000);
    expect(stats).toMatchObject({ captured: 1000, droppedByKernel: 0 });
    expect((await t.run(['ps', '-o', 'args'])).stdout).not.toMatch(/tcpdump/);
  });

  it('tcpdump missing in the container → E_MISSING_TOOL naming the point', async () => {
    const plain = await openTransport({
      kind: 'docker',
      container: 'cpt-dk-plain',
      dockerHost: engine!.host,
    });
    const e = await expectCode(
      startCapture({ name: 'no-tcpdump', transport: plain, interface: 'lo' }),
      'E_MISSING_TOOL',
    );
    expect(e.message).toMatch(/no-tcpdump/);
  });
});
