/**
 * Helpers for test/inject/remote.test.ts: a Docker image with extra host binaries (tcpreplay, iproute2's
 * `ip`), an OpenSSH sshd inside a namespace, and a probe FrameSource mixing small and jumbo frames.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { createIpv4UdpTemplate, type ProbeTemplate } from '../../src/codec/template.ts';
import type { FrameSource } from '../../src/inject/types.ts';
import type { Engine } from '../transport/docker-lab.ts';

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
