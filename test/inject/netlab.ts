/** Test/bench helpers: a veth pair between two namespaces, and a tcpdump counter on the receiving side. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

export interface VethLab {
  a: string;
  b: string;
  ifA: string;
  ifB: string;
  ipA: string;
  ipB: string;
  down(): Promise<void>;
}

const ip = (...args: string[]) => execa('ip', args, { timeout: 10_000 });

/**
 * Namespaces `${prefix}-a` / `${prefix}-b`. CHAINPROBE_TEST_NETNS_PREFIX replaces a leading "cpt" of the
 * prefix (e.g. cpn-me: cpt-inj → cpn-me-inj), so parallel runs on one host do not share namespaces.
 */
export async function vethLab(basePrefix: string, subnet: number, mtu = 9000): Promise<VethLab> {
  const override = process.env.CHAINPROBE_TEST_NETNS_PREFIX;
  const prefix = override ? basePrefix.replace(/^cpt/, override) : basePrefix;
  const a = `${prefix}-a`;
  const b = `${prefix}-b`;
  const ifA = `${prefix.replace(/-/g, '')}a`.slice(0, 15);
  const ifB = `${prefix.replace(/-/g, '')}b`.slice(0, 15);
  for (const ns of [a, b]) await execa('ip', ['netns', 'del', ns], { reject: false });
  await ip('netns', 'add', a);
  await ip('netns', 'add', b);
  await ip('link', 'add', ifA, 'netns', a, 'type', 'veth', 'peer', 'name', ifB, 'netns', b);
  const ipA = `172.31.${subnet}.1`;
  const ipB = `172.31.${subnet}.2`;
  for (const [ns, ifn, addr] of [
    [a, ifA, ipA],
    [b, ifB, ipB],
  ] as const) {
    await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1'], {
      reject: false,
    });
    await ip('-n', ns, 'link', 'set', ifn, 'mtu', String(mtu));
    await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', ifn);
    await ip('-n', ns, 'link', 'set', ifn, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  return {
    a,
    b,
    ifA,
    ifB,
    ipA,
    ipB,
    async down() {
      for (const ns of [a, b]) {
        const pids = await execa('ip', ['netns', 'pids', ns], { reject: false });
        for (const p of String(pids.stdout).split('\n').filter(Boolean)) {
          try {
            process.kill(Number(p), 'SIGKILL');
          } catch {}
        }
        await execa('ip', ['netns', 'del', ns], { reject: false });
      }
    },
  };
}

export async function netnsPids(ns: string): Promise<number[]> {
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false });
  return String(r.stdout).split('\n').filter(Boolean).map(Number);
}

export interface Capture {
  stop(): Promise<{
    lengths: Map<number, number>;
    captured: number;
    droppedByKernel: number;
    truncated: number;
  }>;
}

/** tcpdump on `ifname` in `ns`, writing a pcap; resolves once tcpdump is listening. */
export async function startTcpdump(ns: string, ifname: string, filter: string[]): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), 'cpt-inj-'));
  const file = join(dir, 'rx.pcap');
  const p: ResultPromise = execa(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'tcpdump',
      '-i',
      ifname,
      '-nn',
      '-s',
      '0',
      '-B',
      '65536',
      '--immediate-mode',
      '-U',
      '-w',
      file,
      ...filter,
    ],
    {
      reject: false,
      buffer: { stdout: false, stderr: true },
    },
  );
  await new Promise<void>((resolve, reject) => {
    let err = '';
    p.stderr!.on('data', (c: Buffer) => {
      err += String(c);
      if (err.includes('listening on')) resolve();
    });
    void p.then(() => reject(new Error(`tcpdump exited: ${err}`)));
  });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300));
      p.kill('SIGINT');
      const r = await p;
      const stderr = String(r.stderr);
      const captured = Number(/(\d+) packets? captured/.exec(stderr)?.[1] ?? -1);
      const droppedByKernel = Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? -1);
      const buf = readFileSync(file);
      rmSync(dir, { recursive: true, force: true });
      const lengths = new Map<number, number>();
      let truncated = 0;
      for (let off = 24; off + 16 <= buf.length; ) {
        const incl = buf.readUInt32LE(off + 8);
        const orig = buf.readUInt32LE(off + 12);
        if (incl !== orig) truncated++;
        lengths.set(orig, (lengths.get(orig) ?? 0) + 1);
        off += 16 + incl;
      }
      return { lengths, captured, droppedByKernel, truncated };
    },
  };
}

/** rx packet counter of an interface in a namespace (ip -s -j link). */
export async function rxPackets(ns: string, ifname: string): Promise<number> {
  const r = await execa('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', ifname], { timeout: 10_000 });
  const [link] = JSON.parse(String(r.stdout)) as Array<{ stats64: { rx: { packets: number } } }>;
  return link.stats64.rx.packets;
}
