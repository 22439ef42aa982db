/**
 * Helpers for test/inject/remote.test.ts: a Docker image with extra host binaries (tcpreplay, iproute2's
 * `ip`), an OpenSSH sshd inside a namespace, and a probe FrameSource mixing small and jumbo frames.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { createIpv4UdpTemplate, type ProbeTemplate } from '../../src/codec/template.ts';
import type { FrameSource } from '../../src/inject/types.ts';
import type { Engine } from '../transport/docker-lab.ts';
import { sh } from '../transport/lab.ts';

async function ldd(bin: string): Promise<string[]> {
  const r = await execa('ldd', [bin], { timeout: 10_000 });
  return [...String(r.stdout).matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]);
}

/**
 * `docker import` a root filesystem: dash as /bin/sh, static busybox (kill, ps, id, readlink …) plus each of `binaries`
 * at its host path with the shared libraries ldd lists. PATH puts /usr/bin (and /usr/sbin) before
 * busybox's /bin, so a copied iproute2 `ip` (needed for `ip -j`) wins over busybox's.
 */
export async function importImageWith(engine: Engine, tag: string, binaries: string[]): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cpr-rootfs-'));
  try {
    mkdirSync(join(root, 'bin'));
    copyFileSync('/usr/bin/busybox', join(root, 'bin/busybox'));
    for (const app of ['kill', 'ps', 'sleep', 'cat', 'echo', 'printf', 'true', 'id', 'readlink', 'ls'])
      symlinkSync('busybox', join(root, 'bin', app));
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'run']) mkdirSync(join(root, d));
    // /bin/sh is dash, not busybox: Debian's busybox sh prefers its own applets to PATH, so the transports'
    // `sh -c '…; exec "$@"'` wrapper would run busybox's `ip` (no -j) instead of the copied iproute2 one.
    symlinkSync('/usr/bin/dash', join(root, 'bin/sh'));
    const files = new Set<string>();
    for (const b of ['/usr/bin/dash', ...binaries]) for (const f of [b, ...(await ldd(b))]) files.add(f);
    for (const f of files) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(f, join(root, f));
    }
    const tar = execa('tar', ['-C', root, '-c', '.'], { timeout: 60_000, buffer: false, encoding: 'buffer' });
    const imp = execa(
      'docker',
      ['-H', engine.host, 'import', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', '-', tag],
      { timeout: 60_000 },
    );
    tar.stdout!.pipe(imp.stdin!);
    await Promise.all([tar, imp]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export interface Sshd {
  dir: string;
  fingerprint: string;
  privateKeyPath: string;
  knownHostsPath: string;
  proc: ResultPromise;
  log: () => string;
  createdRunSshd: boolean;
}

/** sshd (generated host + client keys) in namespace `ns`, listening on `ip`:22. */
export async function startSshd(ns: string, ip: string): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'cpr-sshd-'));
  const keygen = (file: string, comment: string) =>
    sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  await keygen(join(dir, 'host_key'), 'host');
  await keygen(join(dir, 'client_key'), 'client');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `ListenAddress ${ip}:22`,
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
  for (let i = 0; i < 100 && !/Server listening/.test(log); i++) await new Promise((r) => setTimeout(r, 50));
  if (!/Server listening/.test(log))
    throw Object.assign(new Error(`sshd did not start: ${log}`), { sshd: s });
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

export interface ProbeFrames {
  source: FrameSource;
  small: ProbeTemplate;
  jumbo: ProbeTemplate;
  smallLen: number;
  jumboLen: number;
  /** Whether frame i is a jumbo one. */
  isJumbo: (i: number) => boolean;
}

/**
 * Ethernet/IPv4/UDP probe frames from two templates: every `jumboEvery`-th frame carries `jumboPayload`
 * bytes, the others `smallPayload`. next(i) patches the template in place (a reused buffer) with seq = i.
 */
export function probeFrames(o: {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  dstPort: number;
  runId: number;
  smallPayload: number;
  jumboPayload: number;
  jumboEvery: number;
}): ProbeFrames {
  const spec = (payloadBytes: number) => ({
    ethernet: { srcMac: o.srcMac, dstMac: o.dstMac },
    srcIp: o.srcIp,
    dstIp: o.dstIp,
    srcPort: 40000,
    dstPort: o.dstPort,
    ttl: 64,
    payloadBytes,
    runId: o.runId,
    flowId: 1,
  });
  const small = createIpv4UdpTemplate(spec(o.smallPayload));
  const jumbo = createIpv4UdpTemplate(spec(o.jumboPayload));
  const isJumbo = (i: number) => i % o.jumboEvery === o.jumboEvery - 1;
  return {
    small,
    jumbo,
    smallLen: small.frame.length,
    jumboLen: jumbo.frame.length,
    isJumbo,
    source: {
      kind: 'ethernet',
      maxLengthBytes: Math.max(small.frame.length, jumbo.frame.length),
      next: (i) => (isJumbo(i) ? jumbo : small).patch(i, BigInt(i) * 1000n),
    },
  };
}
