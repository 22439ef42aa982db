/**
 * Test-only helpers to build and tear down namespaces and veths (the tests' own, prefixed cpt-).
 */
import { execa } from 'execa';

export async function sh(argv: string[], timeoutMs = 20_000): Promise<string> {
  const r = await execa(argv[0], argv.slice(1), { timeout: timeoutMs });
  return String(r.stdout);
}

/** Run, ignoring failure (teardown). */
export async function shQuiet(argv: string[]): Promise<void> {
  await execa(argv[0], argv.slice(1), { timeout: 20_000, reject: false });
}

/** Kill every process left in a namespace (by pid), then delete it. */
export async function deleteNamespace(ns: string): Promise<void> {
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false, timeout: 10_000 });
  for (const pid of String(r.stdout).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await shQuiet(['ip', 'netns', 'del', ns]);
}

export async function namespacePids(ns: string): Promise<number[]> {
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false, timeout: 10_000 });
  return String(r.stdout).split(/\s+/).filter(Boolean).map(Number);
}

/** Two namespaces joined by a veth pair: a (addrA/24) ⇄ b (addrB/24), with static neighbours (no ARP). */
export async function vethPair(o: {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  addrA: string;
  addrB: string;
}): Promise<void> {
  await deleteNamespace(o.nsA);
  await deleteNamespace(o.nsB);
  await sh(['ip', 'netns', 'add', o.nsA]);
  await sh(['ip', 'netns', 'add', o.nsB]);
  await sh([
    'ip',
    'link',
    'add',
    o.ifA,
    'netns',
    o.nsA,
    'type',
    'veth',
    'peer',
    'name',
    o.ifB,
    'netns',
    o.nsB,
  ]);
  for (const [ns, ifn, addr] of [
    [o.nsA, o.ifA, o.addrA],
    [o.nsB, o.ifB, o.addrB],
  ]) {
    await sh(['ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', ifn]);
    await sh(['ip', '-n', ns, 'link', 'set', ifn, 'up']);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const mac = async (ns: string, ifn: string) =>
    JSON.parse(await sh(['ip', '-j', '-n', ns, 'link', 'show', ifn]))[0].address as string;
  await sh([
    'ip',
    '-n',
    o.nsA,
    'neigh',
    'replace',
    o.addrB,
    'lladdr',
    await mac(o.nsB, o.ifB),
    'dev',
    o.ifA,
    'nud',
    'permanent',
  ]);
  await sh([
    'ip',
    '-n',
    o.nsB,
    'neigh',
    'replace',
    o.addrA,
    'lladdr',
    await mac(o.nsA, o.ifA),
    'dev',
    o.ifB,
    'nud',
    'permanent',
  ]);
}

/** A Python one-liner (Debian's python3) that sends `count` UDP datagrams of `size` bytes, as fast as it can. */
export function udpBurstArgv(dst: string, port: number, count: number, size = 64): string[] {
  const code = [
    'import socket,sys',
    's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)',
    `d=(sys.argv[1],int(sys.argv[2]));n=int(sys.argv[3]);b=bytes(int(sys.argv[4]))`,
    'for i in range(n): s.sendto(b,d)',
  ].join('\n');
  return ['/usr/bin/python3', '-c', code, dst, String(port), String(count), String(size)];
}

/** Arguments a shell would mangle: each must arrive as exactly one argv element. */
export const HOSTILE = [
  'a b',
  '$(x)',
  "'q'",
  '"dq"',
  '\\',
  '*',
  '; rm -rf /nonexistent',
  '`id`',
  'new\nline',
  '',
  ' ',
  '$HOME',
  "it's",
  '!',
];
