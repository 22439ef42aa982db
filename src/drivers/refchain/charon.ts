/**
 * One charon per IPsec hop, each with a private /run. charon 5.9.8 hard-codes /var/run/charon.pid, so two
 * instances on one host need two mount namespaces: `unshare --mount` + a bind mount of the hop's directory
 * over /run (REFCHAIN.md). swanctl then talks to it over the vici socket in that directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { command } from './command.ts';
import { isAlive, spawnInNetns, waitFor } from './daemon.ts';
import { ensureDir, runPath, writePrivate } from './rundir.ts';
import { type CharonRole, SWANCTL_CLIENT_CONF, strongswanConf, swanctlConf } from './strongswan-conf.ts';
import type { Topology } from './topology.ts';

export const CHARON_BIN = process.env.CHARON ?? '/usr/lib/ipsec/charon';

export const charonDir = (role: CharonRole) => runPath(role === 'security' ? 'sec' : 'dst');

// Fixed script, no config in it: the directory is passed as $1.
const ISOLATE = 'umask 077; mount --bind "$1" /run && exec "$2"';

export function writeCharonConf(t: Topology, role: CharonRole, pskHex: string): void {
  const dir = charonDir(role);
  ensureDir(dir);
  writePrivate(join(dir, 'strongswan.conf'), strongswanConf(t, role));
  writePrivate(join(dir, 'swanctl.conf'), swanctlConf(t, role, pskHex));
  writePrivate(runPath('swanctl-client.conf'), SWANCTL_CLIENT_CONF);
}

export function startCharon(t: Topology, role: CharonRole): number {
  const dir = charonDir(role);
  const ns = role === 'security' ? t.ns.sec : t.ns.dst;
  return spawnInNetns(
    ns,
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', ISOLATE, 'sh', dir, CHARON_BIN],
    join(dir, 'charon.stderr'),
    { STRONGSWAN_CONF: '/run/strongswan.conf' },
  );
}

function swanctl(role: CharonRole, args: string[], timeoutMs = 10_000) {
  return command('swanctl', [...args, '--uri', `unix://${join(charonDir(role), 'charon.vici')}`], {
    timeoutMs,
    env: { STRONGSWAN_CONF: runPath('swanctl-client.conf') },
  });
}

export async function waitVici(role: CharonRole, pid: number, timeoutMs: number): Promise<void> {
  const sock = join(charonDir(role), 'charon.vici');
  await waitFor(
    `charon (${role}) vici socket`,
    () => {
      if (!isAlive(pid)) throw new Error(`charon (${role}) exited during start-up:\n${charonLogTail(role)}`);
      return existsSync(sock) || undefined;
    },
    timeoutMs,
  );
}

export async function loadAndInitiate(role: CharonRole): Promise<void> {
  await swanctl(role, ['--load-all', '--file', join(charonDir(role), 'swanctl.conf')]);
}

export async function initiate(timeoutMs: number): Promise<void> {
  await swanctl(
    'security',
    ['--initiate', '--child', 'net', '--timeout', String(Math.ceil(timeoutMs / 1000))],
    timeoutMs + 2000,
  );
}

export interface SaStatus {
  child: string;
  state: string;
  mode: string;
  encap: boolean;
  protocol: string;
  encryption: string;
  spiIn: number;
  spiOut: number;
  bytesIn: number;
  packetsIn: number;
  bytesOut: number;
  packetsOut: number;
  localTs: string[];
  remoteTs: string[];
}

/** `swanctl --list-sas --raw`, reduced to what status shows (never keys: swanctl does not print them). */
export async function listSas(role: CharonRole): Promise<{ ike: string; children: SaStatus[] }[]> {
  if (!existsSync(join(charonDir(role), 'charon.vici'))) return [];
  const r = await swanctl(role, ['--list-sas', '--raw'], 5000);
  return parseRawSas(r.stdout);
}

/** Parses swanctl's `--raw` vici dump: `list-sa event {refchain {k=v … child-sas {net-1 {name=net k=v … local-ts=[a b]}}}}`. */
export function parseRawSas(text: string): { ike: string; children: SaStatus[] }[] {
  const out: { ike: string; children: SaStatus[] }[] = [];
  for (const line of text.split('\n')) {
    const m = /^list-sa event \{(\S+) \{(.*)\}\}\s*$/.exec(line.trim());
    if (!m) continue;
    const ike = { ike: `${m[1]} ${/state=(\S+)/.exec(m[2])?.[1] ?? '?'}`, children: [] as SaStatus[] };
    const childPart = m[2].slice(m[2].indexOf('child-sas {') + 'child-sas {'.length);
    for (const c of childPart.matchAll(/(\S+) \{(name=[^{}]*)\}/g)) {
      const body = c[2];
      const kv = (k: string) => new RegExp(`(?:^| )${k}=(\\S+)`).exec(body)?.[1];
      const list = (k: string) =>
        new RegExp(`${k}=\\[([^\\]]*)\\]`).exec(body)?.[1].trim().split(/\s+/).filter(Boolean) ?? [];
      ike.children.push({
        child: kv('name') ?? c[1],
        state: kv('state') ?? '?',
        mode: kv('mode') ?? '?',
        encap: kv('encap') === 'yes',
        protocol: kv('protocol') ?? '?',
        encryption: `${kv('encr-alg') ?? '?'}-${kv('encr-keysize') ?? '?'}`,
        spiIn: parseInt(kv('spi-in') ?? '0', 16),
        spiOut: parseInt(kv('spi-out') ?? '0', 16),
        bytesIn: Number(kv('bytes-in') ?? 0),
        packetsIn: Number(kv('packets-in') ?? 0),
        bytesOut: Number(kv('bytes-out') ?? 0),
        packetsOut: Number(kv('packets-out') ?? 0),
        localTs: list('local-ts'),
        remoteTs: list('remote-ts'),
      });
    }
    out.push(ike);
  }
  return out;
}

/** The last lines of a charon's diagnostic log (the key log is never shown). */
export function charonLogTail(role: CharonRole, lines = 15): string {
  const parts: string[] = [];
  for (const f of ['charon.log', 'charon.stderr']) {
    const p = join(charonDir(role), f);
    if (existsSync(p))
      parts.push(
        ...readFileSync(p, 'utf8')
          .split('\n')
          .filter((l) => l && !/\[CHD\]|key =>/.test(l))
          .slice(-lines),
      );
  }
  return parts.map((l) => `    ${l}`).join('\n');
}

export function readKeyLog(role: CharonRole): string {
  const p = join(charonDir(role), 'keys.log');
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}
