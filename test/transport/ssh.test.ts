/**
 * SSH transport against a real OpenSSH sshd this file starts in its own namespace (cpt-ssh), reached over
 * a veth from the host (10.254.20.1 ⇄ 10.254.20.2), with generated host and client keys.
 * Needs root, iproute2, openssh-server, ssh-keygen, tcpdump, /usr/bin/python3.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../../src/capture/index.ts';
import { ChainprobeError } from '../../src/errors.ts';
import {
  checkKnownHost,
  fingerprintSha256,
  liveProcesses,
  openSsh,
  openTransport,
  parseKnownHosts,
} from '../../src/transport/index.ts';
import type { Transport } from '../../src/transport/transport.ts';
import {
  commandsIn,
  deleteNamespace,
  HOSTILE,
  hostVeth,
  type Sshd,
  sh,
  shQuiet,
  startSshd,
  stopSshd,
  udpBurstArgv,
} from './lab.ts';

const NS = 'cpt-ssh';
const HOST_IF = 'cpt-ssh-h';
const NS_IF = 'cpt-ssh-n';
const HOST_IP = '10.254.20.1';
const SSHD_IP = '10.254.20.2';
let dir: string;
let sshd: Sshd | undefined;
let fingerprint: string;
let stranger: Server | undefined;
let t: Transport | undefined;

async function expectCode(p: Promise<unknown>, code: string): Promise<ChainprobeError> {
  const e = await p.then(
    (ok: unknown) => {
      void (ok as Transport | undefined)?.close?.();
      return undefined;
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ChainprobeError);
  expect((e as ChainprobeError).code, (e as Error).message).toBe(code);
  return e as ChainprobeError;
}

const keygen = (file: string, comment: string) =>
  sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);

beforeAll(async () => {
  await hostVeth({ ns: NS, hostIf: HOST_IF, nsIf: NS_IF, hostIp: HOST_IP, nsIp: SSHD_IP });
  // Static neighbour: a burst into an unresolved neighbour would lose packets while ARP resolves.
  const mac = JSON.parse(await sh(['ip', '-j', '-n', NS, 'link', 'show', NS_IF]))[0].address;
  await sh(['ip', 'neigh', 'replace', SSHD_IP, 'lladdr', mac, 'dev', HOST_IF, 'nud', 'permanent']);

  sshd = await startSshd(NS, SSHD_IP, [22, 2200]);
  dir = sshd.dir;
  fingerprint = sshd.fingerprint;
  // Keys this file needs beyond the server's: another host key and an unauthorised client key.
  await keygen(join(dir, 'other_host_key'), 'other');
  await keygen(join(dir, 'wrong_key'), 'wrong');
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const otherPub = readFileSync(join(dir, 'other_host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  // known_hosts files: hashed (as `ssh-keygen -H` writes them), [host]:port only, and a mismatching key.
  writeFileSync(join(dir, 'kh_hashed'), `${SSHD_IP} ${hostPub}\n[${SSHD_IP}]:2200 ${hostPub}\n`);
  await sh(['ssh-keygen', '-q', '-H', '-f', join(dir, 'kh_hashed')]);
  writeFileSync(join(dir, 'kh_port'), `# only the non-22 port\n[${SSHD_IP}]:2200 ${hostPub}\n`);
  writeFileSync(join(dir, 'kh_wrong'), `${SSHD_IP},!10.9.9.9 ${otherPub}\n`);
});

afterAll(async () => {
  try {
    await t?.close();
    stranger?.close();
    await stopSshd(sshd);
  } finally {
    await deleteNamespace(NS);
    await shQuiet(['ip', 'link', 'del', HOST_IF]);
  }
});

const base = () => ({
  kind: 'ssh' as const,
  host: SSHD_IP,
  port: 22,
  username: 'root',
  privateKeyPath: join(dir, 'client_key'),
  sudo: false,
  readyTimeoutMs: 5000,
});

describe('ssh transport', () => {
  it('connects with a pinned fingerprint and runs a command', async () => {
    t = await openTransport({ ...base(), hostKeyFingerprint: fingerprint });
    expect(t.description).toBe(`ssh root@${SSHD_IP}:22`);
    const r = await t.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    expect((await t.run(['ip', '-o', '-4', 'addr', 'show', NS_IF])).stdout).toContain(SSHD_IP);
    expect((await t.run(['cat'], { input: 'over ssh' })).stdout).toBe('over ssh');
  });

  it('round-trips hostile arguments (quoting)', async () => {
    const r = await t!.run(['printf', '%s\\n', ...HOSTILE]);
    expect(r.stdout).toBe(HOSTILE.map((s) => `${s}\n`).join(''));
    expect(r.exitCode).toBe(0);
  });

  it('signals a remote process by pid (reliable stop) and times out a run', async () => {
    const p = t!.spawn(['sleep', '300']);
    await new Promise((r) => setTimeout(r, 300));
    p.signal('SIGTERM');
    expect(await p.exited).toEqual({ exitCode: null, signal: 'SIGTERM' });
    await expectCode(t!.run(['sleep', '301'], { timeoutMs: 500 }), 'E_TIMEOUT');
    await new Promise((r) => setTimeout(r, 300));
    expect(await commandsIn(NS)).not.toContain('sleep');
    await expectCode(t!.run(['cpt-no-such-tool']), 'E_MISSING_TOOL');
    expect(liveProcesses()).toEqual([]);
  });

  it('a capture through SSH sees the packets sent into the namespace', async () => {
    const cap = await startCapture({
      name: 'over-ssh',
      transport: t!,
      interface: NS_IF,
      direction: 'in',
      filter: 'udp dst port 9999',
    });
    let n = 0;
    const consumed = (async () => {
      for await (const p of cap.packets) if (p.timestampNs > 0n) n++;
    })();
    const sent = await execa('/usr/bin/python3', udpBurstArgv(SSHD_IP, 9999, 1000).slice(1), {
      timeout: 30_000,
    });
    expect(sent.exitCode).toBe(0);
    const stats = await cap.stop();
    await consumed;
    expect(n).toBe(1000);
    expect(stats).toMatchObject({ captured: 1000, droppedByKernel: 0 });
    // ps sees the whole host (shared pid namespace), so look only at processes in our namespace.
    expect(await commandsIn(NS)).not.toContain('tcpdump');
  });

  it('verifies host keys from known_hosts: hashed entries, [host]:port, unknown and mismatch', async () => {
    const hashed = await openSsh({ ...base(), knownHostsPath: join(dir, 'kh_hashed') });
    expect((await hashed.run(['true'])).exitCode).toBe(0);
    await hashed.close();
    const onPort = await openSsh({ ...base(), port: 2200, knownHostsPath: join(dir, 'kh_port') });
    expect(onPort.description).toBe(`ssh root@${SSHD_IP}:2200`);
    await onPort.close();
    const unknown = await expectCode(
      openSsh({ ...base(), knownHostsPath: join(dir, 'kh_port') }),
      'E_HOST_KEY',
    );
    expect(unknown.message).toMatch(/not in/);
    const accepted = (sshd!.log().match(/Accepted publickey/g) ?? []).length;
    const mismatch = await expectCode(
      openSsh({ ...base(), knownHostsPath: join(dir, 'kh_wrong') }),
      'E_HOST_KEY',
    );
    expect(mismatch.message).toMatch(/MISMATCH/);
    const pinned = await expectCode(
      openSsh({ ...base(), hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
      'E_HOST_KEY',
    );
    expect(pinned.message).toContain(fingerprint);
    await new Promise((r) => setTimeout(r, 200));
    expect((sshd!.log().match(/Accepted publickey/g) ?? []).length).toBe(accepted); // never authenticated, so nothing ran
  });

  it('wrong client key → E_AUTH; closed port → E_UNREACHABLE; silent peer → E_TIMEOUT', async () => {
    await expectCode(
      openSsh({ ...base(), privateKeyPath: join(dir, 'wrong_key'), hostKeyFingerprint: fingerprint }),
      'E_AUTH',
    );
    await expectCode(openSsh({ ...base(), port: 2222, hostKeyFingerprint: fingerprint }), 'E_UNREACHABLE');
    stranger = createServer(() => {}); // accepts TCP, never speaks SSH
    await new Promise<void>((r) => stranger!.listen(0, '127.0.0.1', r));
    const port = (stranger.address() as { port: number }).port;
    await expectCode(
      openSsh({ ...base(), host: '127.0.0.1', port, readyTimeoutMs: 800, hostKeyFingerprint: fingerprint }),
      'E_TIMEOUT',
    );
  });

  it('no process is left in the namespace but sshd', async () => {
    await t!.close();
    t = undefined;
    expect((await commandsIn(NS)).filter((c) => !c.includes('sshd'))).toEqual([]);
  });
});

describe('known_hosts parsing (unit)', () => {
  it('matches plain, wildcard, negated and [host]:port entries and computes fingerprints', () => {
    const key = Buffer.from('000000077373682d6b6579', 'hex');
    const other = Buffer.from('000000077373682d6f7468', 'hex');
    const kh = parseKnownHosts(
      [
        `*.lab.example,!bad.lab.example ssh-ed25519 ${key.toString('base64')}`,
        `[10.0.0.5]:2222 ssh-ed25519 ${key.toString('base64')}`,
        `@revoked * ssh-ed25519 ${other.toString('base64')}`,
        'garbage',
      ].join('\n'),
    );
    expect(kh).toHaveLength(3);
    expect(checkKnownHost(kh, 'a.lab.example', 22, key).ok).toBe(true);
    expect(checkKnownHost(kh, 'bad.lab.example', 22, key)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(checkKnownHost(kh, '10.0.0.5', 2222, key).ok).toBe(true);
    expect(checkKnownHost(kh, '10.0.0.5', 22, key)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(checkKnownHost(kh, 'a.lab.example', 22, other)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(fingerprintSha256(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
