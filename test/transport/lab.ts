/**
 * Test-only helpers to build and tear down namespaces and veths (the tests' own, prefixed cpt-).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

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

/** A namespace joined to the host by a veth pair: host side hostIp/24, namespace side nsIp/24, lo up. */
export async function hostVeth(o: {
  ns: string;
  hostIf: string;
  nsIf: string;
  hostIp: string;
  nsIp: string;
}): Promise<void> {
  await deleteNamespace(o.ns);
  await shQuiet(['ip', 'link', 'del', o.hostIf]);
  await sh(['ip', 'netns', 'add', o.ns]);
  await sh(['ip', 'link', 'add', o.hostIf, 'type', 'veth', 'peer', 'name', o.nsIf, 'netns', o.ns]);
  await sh(['ip', 'addr', 'add', `${o.hostIp}/24`, 'dev', o.hostIf]);
  await sh(['ip', 'link', 'set', o.hostIf, 'up']);
  await sh(['ip', '-n', o.ns, 'addr', 'add', `${o.nsIp}/24`, 'dev', o.nsIf]);
  await sh(['ip', '-n', o.ns, 'link', 'set', o.nsIf, 'up']);
  await sh(['ip', '-n', o.ns, 'link', 'set', 'lo', 'up']);
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

// ---- a real OpenSSH sshd in a namespace (SSH transport and remote-injection tests)

export interface Sshd {
  dir: string;
  fingerprint: string;
  privateKeyPath: string;
  knownHostsPath: string;
  proc: ResultPromise;
  log: () => string;
  createdRunSshd: boolean;
}

/** sshd (generated host + client keys) in namespace `ns`, listening on `ip` at each of `ports`. */
export async function startSshd(ns: string, ip: string, ports: number[] = [22]): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'cpt-sshd-'));
  const keygen = (file: string, comment: string) =>
    sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  await keygen(join(dir, 'host_key'), 'host');
  await keygen(join(dir, 'client_key'), 'client');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      ...ports.map((port) => `ListenAddress ${ip}:${port}`),
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PidFile none',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const fingerprint = (await sh(['ssh-keygen', '-l', '-E', 'sha256', '-f', join(dir, 'host_key.pub')])).split(
    ' ',
  )[1];
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `${ip} ${hostPub}\n`);
  let createdRunSshd = false;
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755 }); // privilege-separation directory
    createdRunSshd = true;
  }
  let log = '';
  const proc = execa(
    'ip',
    ['netns', 'exec', ns, '/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')],
    {
      detached: true,
      reject: false,
      buffer: false,
      stdin: 'ignore',
    },
  );
  proc.stderr?.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  proc.stdout?.resume();
  const s: Sshd = {
    dir,
    fingerprint,
    privateKeyPath: join(dir, 'client_key'),
    knownHostsPath: join(dir, 'known_hosts'),
    proc,
    log: () => log,
    createdRunSshd,
  };
  const lastPort = new RegExp(`Server listening on \\S+ port ${ports[ports.length - 1]}`);
  for (let i = 0; i < 100 && !lastPort.test(log); i++) await new Promise((r) => setTimeout(r, 50));
  if (!lastPort.test(log)) throw Object.assign(new Error(`sshd did not start: ${log}`), { sshd: s });
  return s;
}

export async function stopSshd(s: Sshd | undefined): Promise<void> {
  if (!s) return;
  try {
    if (s.proc.pid) {
      try {
        process.kill(-s.proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await s.proc;
    }
  } finally {
    if (s.createdRunSshd) rmSync('/run/sshd', { recursive: true, force: true });
    rmSync(s.dir, { recursive: true, force: true });
  }
}

/** The commands (argv[0]) of the processes in a namespace. */
export async function commandsIn(ns: string): Promise<string[]> {
  return (await namespacePids(ns))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0];
      } catch {
        return '';
      }
    })
    .filter(Boolean);
}
