/**
 * The embedded reference chain, proven with stock tools (kernel UDP/VXLAN sender, tcpdump, tshark, scapy)
 * and independently of chainprobe's traffic engine and analyser. Needs root; runs in CI as root.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ChainUpResult,
  chainDown,
  chainStatus,
  chainUp,
  clearFaults,
  type Fault,
  loadRuntimeSas,
  RUN_DIR,
  readSinkCounters,
  sendProbe,
  setFault,
} from '../../src/drivers/refchain/index.ts';
import { requiresRoot } from '../helpers/requires.ts';
import { readWithTshark, startCapture } from './tcpdump-capture.ts';

const NAMESPACES = ['rc-gen', 'rc-vx', 'rc-sec', 'rc-dst'];

async function netnsList(): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { timeout: 5000 });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean);
}

/** Sends `count` datagrams and returns what the sink got for them (counter deltas). */
async function deliver(
  size: number,
  count: number,
  pps: number,
): Promise<{ packets: number; sources: Record<string, number>; sizes: Record<string, number> }> {
  const before = await readSinkCounters();
  await sendProbe({ size, count, pps });
  await new Promise((r) => setTimeout(r, 300));
  const after = await readSinkCounters();
  const delta = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(b)
        .map(([k, v]) => [k, v - (a[k] ?? 0)])
        .filter(([, v]) => (v as number) > 0),
    );
  return {
    packets: after.packets - before.packets,
    sources: delta(before.sources, after.sources),
    sizes: delta(before.sizes, after.sizes),
  };
}

describe.runIf(requiresRoot('reference chain'))('reference chain', () => {
  let up: ChainUpResult;

  beforeAll(async () => {
    up = await chainUp();
  }, 60_000);

  afterAll(async () => {
    await chainDown();
  });

  test('up brings every namespace, daemon and the pinned SAs up, and reports its timings', async () => {
    expect(up.namespaces).toEqual(NAMESPACES);
    // the flow collectors (nfcapd, sfcapd) listen beside the probe sink
    expect(up.daemons.map((d) => d.what).sort()).toEqual([
      'charon-destination',
      'charon-security',
      'collector-nfcapd',
      'collector-sfcapd',
      'sink',
    ]);
    expect(up.sas.map((s) => s.spi).sort()).toEqual([1000, 1001]);
    expect(up.probes).toEqual([
      { sizeBytes: 100, delivered: true },
      { sizeBytes: 8000, delivered: true },
    ]);
    expect(up.timingsMs.total).toBeLessThan(15_000);
    console.log(`chain up took ${up.timingsMs.total} ms`, up.timingsMs);
  });

  test('100 B and 8000 B probes arrive with source 10.10.10.5 and destination 172.20.102.10; ESP SPI 1000 crosses the wire in fragments <= 1400', async () => {
    const wire = await startCapture('rc-dst', 'dst0', 'in', 'wire');
    const delivered = await startCapture('rc-dst', 'ipsec0', 'in', 'delivered');
    let got: Awaited<ReturnType<typeof deliver>>[];
    try {
      got = [await deliver(100, 1, 0), await deliver(8000, 1, 0)];
    } finally {
      await Promise.all([wire.stop(), delivered.stop()]);
    }
    // the sink is bound to 172.20.102.10:2055 only: arriving there *is* the rewritten destination
    expect(got.reduce((n, g) => n + g.packets, 0)).toBe(2);
    expect(Object.assign({}, ...got.map((g) => g.sizes))).toEqual({ '100': 1, '8000': 1 });
    expect(got.map((g) => g.sources)).toEqual([{ '10.10.10.5': 1 }, { '10.10.10.5': 1 }]);

    // after decryption (tshark): the inner packets, 100 B whole and 8000 B as the 6 fragments of libipsec's TUN MTU
    const inner = await readWithTshark(delivered.file);
    expect(inner.every((f) => f.src === '10.10.10.5' && f.dst === '172.20.102.10')).toBe(true);
    expect(inner.length).toBe(1 + 6);
    expect(inner.some((f) => f.udpLen === 108)).toBe(true);

    // on the wire (tshark): UDP-encapsulated ESP with SPI 1000; 1 + 6 ESP packets, in 1 + 11 frames, none over 1400, no DF
    const frames = await readWithTshark(wire.file);
    expect(frames.every((f) => f.src === '172.20.103.1' && f.dst === '172.20.103.2')).toBe(true);
    expect(frames.every((f) => f.ipLen <= 1400 && !f.df)).toBe(true);
    const esp = frames.filter((f) => f.espSpi !== undefined);
    expect(new Set(esp.map((f) => f.espSpi))).toEqual(new Set([1000]));
    expect(esp.length).toBe(7);
    expect(frames.length).toBe(12);
    expect(frames.filter((f) => f.mf || f.fragOffset > 0).length).toBe(10);

    // the SA keys handed to the analyser decrypt the captured wire: scapy (not our ESP code) as the oracle
    const sas = loadRuntimeSas();
    const out = sas.find((s) => s.direction === 'out');
    expect(out).toMatchObject({ spi: 1000, src: '172.20.103.1', dst: '172.20.103.2' });
    expect(out?.key.length).toBe(16);
    expect(out?.salt.length).toBe(4);
    const py = `
import json, sys
from scapy.all import rdpcap, IP, UDP, ESP, defragment, SecurityAssociation
sa = json.loads(sys.stdin.read())
assoc = SecurityAssociation(ESP, spi=sa["spi"], crypt_algo="AES-GCM", crypt_key=bytes.fromhex(sa["key"]), tunnel_header=IP(src=sa["src"], dst=sa["dst"]))
out = []
for p in defragment([p[IP] for p in rdpcap(sys.argv[1]) if IP in p]):
    if UDP in p and p[UDP].dport == 4500 and len(p[UDP].payload) > 8:
        d = assoc.decrypt(IP(src=p[IP].src, dst=p[IP].dst, proto=50) / ESP(bytes(p[UDP].payload)))
        out.append([d[IP].src, d[IP].dst, d[IP].len])
print(json.dumps(out))
`;
    const input = JSON.stringify({
      spi: out?.spi,
      src: out?.src,
      dst: out?.dst,
      key: Buffer.concat([out!.key, out!.salt]).toString('hex'),
    });
    const dec = await execa('/usr/bin/python3', ['-c', py, wire.file], { input, timeout: 30_000 });
    const decrypted = JSON.parse(dec.stdout) as [string, string, number][];
    expect(decrypted.length).toBe(7);
    expect(decrypted.every(([s, d]) => s === '10.10.10.5' && d === '172.20.102.10')).toBe(true);
    expect(decrypted.map((x) => x[2]).sort((a, b) => a - b)).toEqual([
      128, 1148, 1396, 1396, 1396, 1396, 1396,
    ]);
  });

  test('status shows hops, SAs (never keys), daemons and a healthy chain', async () => {
    const s = await chainStatus();
    expect(s.up).toBe(true);
    expect(s.problems).toEqual([]);
    expect(s.healthy).toBe(true);
    expect(s.hops.map((h) => h.namespace)).toEqual(NAMESPACES);
    const vx = s.hops.find((h) => h.name === 'vxlan');
    expect(vx?.interfaces.find((i) => i.name === 'br100')).toMatchObject({
      mac: '02:00:00:0a:0a:01',
      addresses: ['10.10.10.1/32'],
    });
    expect(
      s.hops.find((h) => h.name === 'injector')?.interfaces.find((i) => i.name === 'gen0'),
    ).toMatchObject({ mac: '02:00:00:14:64:01', mtu: 9000 });
    const secSa = s.sas.find((x) => x.hop === 'security')?.children[0];
    expect(secSa).toMatchObject({
      state: 'INSTALLED',
      spiOut: 1000,
      spiIn: 1001,
      encap: true,
      encryption: 'AES_GCM_16-128',
    });
    // no key material anywhere in what status (library or CLI) prints
    const cli = await execa('node', ['bin/chainprobe.js', 'chain', 'status', '--json'], {
      timeout: 30_000,
      reject: false,
    });
    expect(cli.exitCode).toBe(0);
    for (const sa of loadRuntimeSas()) {
      const hex = Buffer.from(sa.key).toString('hex');
      expect(JSON.stringify(s).toLowerCase()).not.toContain(hex);
      expect(cli.stdout.toLowerCase().replace(/[^0-9a-f]/g, '')).not.toContain(hex);
    }
    expect(
      (await execa('stat', ['-c', '%a', `${RUN_DIR}/sas.json`, RUN_DIR], { timeout: 5000 })).stdout.split(
        '\n',
      ),
    ).toEqual(['600', '700']);
  });

  const faultCases: {
    hop: string;
    fault: Fault;
    size: number;
    count: number;
    pps: number;
    check: (d: Awaited<ReturnType<typeof deliver>>, count: number) => void;
  }[] = [
    {
      hop: 'vxlan',
      fault: { kind: 'drop', percent: 50 },
      size: 100,
      count: 300,
      pps: 3000,
      check: (d, n) => {
        expect(d.packets).toBeGreaterThan(n * 0.3);
        expect(d.packets).toBeLessThan(n * 0.7);
      },
    },
    {
      hop: 'security',
      fault: { kind: 'rate', rate: '400kbit' },
      size: 1000,
      count: 200,
      pps: 1000,
      check: (d, n) => expect(d.packets).toBeLessThan(n * 0.6),
    },
    {
      hop: 'destination',
      fault: { kind: 'down' },
      size: 100,
      count: 100,
      pps: 2000,
      check: (d) => expect(d.packets).toBe(0),
    },
    {
      hop: 'security',
      fault: { kind: 'rewrite-source', ip: '10.10.10.99' },
      size: 8000,
      count: 20,
      pps: 200,
      check: (d, n) => expect(d.sources).toEqual({ '10.10.10.99': n }),
    },
  ];
  for (const c of faultCases) {
    test(`fault ${c.hop} ${c.fault.kind} changes what arrives, and --clear restores it`, async () => {
      await setFault(c.hop, c.fault);
      await setFault(c.hop, c.fault); // idempotent
      try {
        c.check(await deliver(c.size, c.count, c.pps), c.count);
        expect((await chainStatus()).hops.find((h) => h.name === c.hop)?.faults).toEqual([c.fault]);
      } finally {
        await clearFaults(c.hop);
      }
      const after = await deliver(c.size, c.count, c.pps);
      expect(after.packets).toBe(c.count);
      expect(after.sources).toEqual({ '10.10.10.5': c.count });
    });
  }

  test('a killed run is cleaned up by the next up (charon SIGKILLed, run directory gone)', async () => {
    const sec = up.daemons.find((d) => d.what === 'charon-security');
    process.kill(sec!.pid, 'SIGKILL');
    await execa('rm', ['-rf', RUN_DIR]);
    up = await chainUp();
    expect((await deliver(100, 50, 1000)).packets).toBe(50);
  }, 60_000);

  test('down removes every namespace, daemon and file; a second down is a no-op', async () => {
    const pids = up.daemons.map((d) => d.pid);
    const first = await chainDown();
    expect(first.namespaces).toEqual(NAMESPACES);
    const second = await chainDown();
    expect(second.namespaces).toEqual([]);
    expect(second.killed).toEqual([]);
    expect((await netnsList()).filter((n) => NAMESPACES.includes(n))).toEqual([]);
    expect(existsSync(RUN_DIR)).toBe(false);
    for (const pid of pids) {
      const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      expect(stat === '' || / Z /.test(stat)).toBe(true); // gone (or a zombie awaiting PID 1's reaping)
    }
    const s = await chainStatus();
    expect(s.up).toBe(false);
  });
});

describe('chain CLI input checks', () => {
  test('bad hop and bad percentages are bad input (exit 2) with a clear message', async () => {
    const r1 = await execa('node', ['bin/chainprobe.js', 'chain', 'fault', '--hop', 'nope', '--drop', '5'], {
      reject: false,
      timeout: 30_000,
    });
    const r2 = await execa(
      'node',
      ['bin/chainprobe.js', 'chain', 'fault', '--hop', 'vxlan', '--drop', '150'],
      { reject: false, timeout: 30_000 },
    );
    const r3 = await execa(
      'node',
      ['bin/chainprobe.js', 'chain', 'fault', '--hop', 'vxlan', '--drop', '5', '--down'],
      { reject: false, timeout: 30_000 },
    );
    const r4 = await execa(
      'node',
      ['bin/chainprobe.js', 'chain', 'fault', '--hop', 'vxlan', '--rate', 'fast'],
      { reject: false, timeout: 30_000 },
    );
    expect([r1.exitCode, r2.exitCode, r3.exitCode, r4.exitCode]).toEqual([2, 2, 2, 2]);
    expect(r1.stderr).toContain('unknown hop "nope"');
    expect(r3.stderr).toContain('exactly one of');
    expect(r4.stderr).toContain('not a tc rate');
  });
});
