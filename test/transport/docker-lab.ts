/**
 * A private Docker engine for tests: dockerd with its own data/exec roots and socket (no iptables, no
 * bridge), and images imported from root filesystems built here in about a second (no registry needed):
 *   cpt-busybox:1   static busybox only (sh, kill, ps, sleep …)
 *   cpt-tcpdump:1   the same plus the host's /usr/bin/tcpdump and the shared libraries ldd lists for it
 */

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

export interface Engine {
  host: string;
  dir: string;
  daemon: ResultPromise;
  startMs: number;
  log: () => string;
}

export async function startEngine(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'cpt-dockerd-'));
  const host = `unix://${join(dir, 'docker.sock')}`;
  let log = '';
  const t0 = Date.now();
  const daemon = execa(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '--host',
      host,
      '--iptables=false',
      '--bridge=none',
    ],
    { detached: true, reject: false, buffer: false, stdin: 'ignore' },
  );
  daemon.stderr?.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  daemon.stdout?.resume();
  for (let i = 0; i < 300; i++) {
    const r = await execa('docker', ['-H', host, 'version'], { reject: false, timeout: 5000 });
    if (r.exitCode === 0) return { host, dir, daemon, startMs: Date.now() - t0, log: () => log };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopEngine({ host, dir, daemon, startMs: 0, log: () => log });
  throw new Error(`dockerd did not start within 30 s: ${log.slice(-2000)}`);
}

export async function stopEngine(e: Engine): Promise<void> {
  try {
    if (e.daemon.pid) {
      try {
        process.kill(e.daemon.pid, 'SIGTERM'); // dockerd stops its containers and its managed containerd
      } catch {
        /* gone */
      }
      const done = await Promise.race([
        e.daemon.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 15_000)),
      ]);
      if (!done) {
        try {
          process.kill(-e.daemon.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await e.daemon;
      }
    }
  } finally {
    // Never rm -rf through a live mount: unmount anything left under the engine's directories first.
    const mounts = await execa('findmnt', ['-rn', '-o', 'TARGET'], { reject: false, timeout: 10_000 });
    for (const m of String(mounts.stdout)
      .split('\n')
      .filter((m) => m.startsWith(e.dir))
      .reverse())
      await execa('umount', ['-l', m], { reject: false, timeout: 10_000 });
    rmSync(e.dir, { recursive: true, force: true });
  }
}

async function ldd(bin: string): Promise<string[]> {
  const r = await execa('ldd', [bin], { timeout: 10_000 });
  return [...String(r.stdout).matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]);
}

/** Build a root filesystem and `docker import` it. */
export async function importImage(engine: Engine, tag: string, withTcpdump: boolean): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cpt-rootfs-'));
  try {
    mkdirSync(join(root, 'bin'));
    copyFileSync('/usr/bin/busybox', join(root, 'bin/busybox')); // static (busybox-static)
    for (const app of ['sh', 'kill', 'ps', 'sleep', 'cat', 'echo', 'printf', 'true', 'ip'])
      symlinkSync('busybox', join(root, 'bin', app));
    mkdirSync(join(root, 'etc'));
    // tcpdump drops privileges to user "tcpdump" after opening the device, and refuses to run if it is unknown.
    writeFileSync(
      join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:101:101::/nonexistent:/bin/false\n',
    );
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\ntcpdump:x:101:\n');
    for (const d of ['proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, d));
    if (withTcpdump) {
      for (const f of ['/usr/bin/tcpdump', ...(await ldd('/usr/bin/tcpdump'))]) {
        mkdirSync(join(root, dirname(f)), { recursive: true });
        copyFileSync(f, join(root, f));
      }
    }
    const tar = execa('tar', ['-C', root, '-c', '.'], { timeout: 60_000, buffer: false, encoding: 'buffer' });
    const imp = execa(
      'docker',
      ['-H', engine.host, 'import', '--change', 'ENV PATH=/usr/bin:/bin', '-', tag],
      { timeout: 60_000 },
    );
    tar.stdout!.pipe(imp.stdin!);
    await Promise.all([tar, imp]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
