/**
 * Safety interlock: chainprobe sends spoofed, high-rate traffic, so every injector refuses to send
 *  1. any frame whose outer or inner destination (through VLAN tags, VXLAN, IP-in-IP; ARP target) lies
 *     outside the profile's labPrefixes — checked on *every* frame handed to a sender, or on every frame of a
 *     periodic set before a native sender cycles it (E_UNSAFE_DESTINATION);
 *  2. on an interface of the host's default-route namespace: the place's network namespace is the one of
 *     its PID 1 *and* it has a default route (E_UNSAFE_DESTINATION),
 * unless the user explicitly allows it. IPv6 destinations are refused (lab prefixes are IPv4); ESP payloads
 * are opaque, so only their outer header is checked.
 */
import { ipv4ToString, parseIpv4 as parseIpv4Text } from '../codec/address.ts';
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';
import type { FrameKind, FrameSource } from './types.ts';

export interface SafetyOptions {
  /** Send to destinations outside labPrefixes (and on the host's default-route namespace). */
  allowOutsideLab?: boolean;
  /** Only the namespace check: allow injecting in the host's default-route namespace. */
  allowHostNamespace?: boolean;
  /** UDP destination ports decoded as VXLAN to check the inner frame (default [4789]). */
  vxlanPorts?: readonly number[];
}

function parseIpv4(text: string): number {
  try {
    return parseIpv4Text(text);
  } catch {
    throw new ChainprobeError('E_CONFIG', `"${text}" is not an IPv4 address`, true);
  }
}

const ipText = ipv4ToString;

/** Checks frames against lab prefixes without allocating (one pass over a few header bytes). */
export class DestinationGuard {
  private readonly nets: Uint32Array;
  private readonly masks: Uint32Array;
  private readonly vxlanPorts: readonly number[];
  /** Whether the guard lets everything through (allowOutsideLab). */
  readonly open: boolean;

  constructor(
    readonly labPrefixes: readonly string[],
    opts: SafetyOptions = {},
  ) {
    this.open = opts.allowOutsideLab === true;
    this.vxlanPorts = opts.vxlanPorts ?? [4789];
    if (!this.open && labPrefixes.length === 0)
      throw new ChainprobeError(
        'E_UNSAFE_DESTINATION',
        'no lab prefixes given: refusing to send anywhere (pass allowOutsideLab to override)',
        true,
      );
    this.nets = new Uint32Array(labPrefixes.length);
    this.masks = new Uint32Array(labPrefixes.length);
    labPrefixes.forEach((p, i) => {
      const [addr, len] = p.split('/');
      const bits = len === undefined ? 32 : Number(len);
      if (!(Number.isInteger(bits) && bits >= 0 && bits <= 32))
        throw new ChainprobeError('E_CONFIG', `"${p}" is not an IPv4 prefix like 172.20.0.0/16`, true);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      this.masks[i] = mask;
      this.nets[i] = (parseIpv4(addr) & mask) >>> 0;
    });
  }

  inLab(addr: number): boolean {
    for (let i = 0; i < this.nets.length; i++) if ((addr & this.masks[i]) >>> 0 === this.nets[i]) return true;
    return false;
  }

  /** Throws E_UNSAFE_DESTINATION if the frame (or anything encapsulated in it) goes outside the lab. */
  check(frame: Uint8Array, kind: FrameKind, index = 0): void {
    if (this.open) return;
    const bad = kind === 'ethernet' ? this.badInEthernet(frame, 0, 0) : this.badInIpv4(frame, 0, 0);
    if (bad !== null) {
      throw new ChainprobeError(
        'E_UNSAFE_DESTINATION',
        `frame ${index}: ${bad} is outside the lab prefixes (${this.labPrefixes.join(', ')}); refusing to send. ` +
          'Pass allowOutsideLab (CLI: --allow-outside-lab) only if you mean it.',
        true,
        { frameIndex: index, destination: bad, labPrefixes: [...this.labPrefixes] },
      );
    }
  }

  /** Returns the offending destination as text, or null. */
  private badInEthernet(b: Uint8Array, off: number, depth: number): string | null {
    if (b.length < off + 14) return null; // runt: nothing addressable
    let et = (b[off + 12] << 8) | b[off + 13];
    let p = off + 14;
    for (let tags = 0; (et === 0x8100 || et === 0x88a8) && tags < 2 && b.length >= p + 4; tags++) {
      et = (b[p + 2] << 8) | b[p + 3];
      p += 4;
    }
    if (et === 0x0800) return this.badInIpv4(b, p, depth);
    if (et === 0x86dd) return 'an IPv6 destination';
    if (et === 0x0806 && b.length >= p + 28) {
      const tpa = ((b[p + 24] << 24) | (b[p + 25] << 16) | (b[p + 26] << 8) | b[p + 27]) >>> 0;
      return this.inLab(tpa) ? null : `ARP target ${ipText(tpa)}`;
    }
    return null;
  }

  private badInIpv4(b: Uint8Array, p: number, depth: number): string | null {
    if (b.length < p + 20) return 'a truncated IPv4 header';
    if (b[p] >> 4 !== 4) return b[p] >> 4 === 6 ? 'an IPv6 destination' : 'a non-IPv4 packet';
    const dst = ((b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19]) >>> 0;
    if (!this.inLab(dst)) return ipText(dst);
    if (depth >= 4) return null;
    const ihl = (b[p] & 15) * 4;
    const firstFragment = (((b[p + 6] << 8) | b[p + 7]) & 0x1fff) === 0;
    if (!firstFragment) return null;
    const proto = b[p + 9];
    const l4 = p + ihl;
    if (proto === 4) return this.badInIpv4(b, l4, depth + 1);
    if (proto === 17 && b.length >= l4 + 8 + 8 + 14) {
      const dport = (b[l4 + 2] << 8) | b[l4 + 3];
      if (this.vxlanPorts.includes(dport)) {
        const inner = this.badInEthernet(b, l4 + 16, depth + 1);
        return inner === null ? null : `inner ${inner}`;
      }
    }
    return null;
  }
}

/**
 * Check a frame source before sending: every frame of a periodic source (up to `maxFrames`), else the
 * first `maxFrames`. Senders that see each frame (stream mode) additionally check every frame inline.
 */
export function assertSafeDestinations(
  frames: FrameSource | readonly Uint8Array[],
  labPrefixes: readonly string[],
  opts: SafetyOptions & { kind?: FrameKind; maxFrames?: number } = {},
): DestinationGuard {
  const guard = new DestinationGuard(labPrefixes, opts);
  if (guard.open) return guard;
  const max = opts.maxFrames ?? 1_000_000;
  if (Array.isArray(frames)) {
    const kind = opts.kind ?? 'ethernet';
    for (const [i, f] of (frames as readonly Uint8Array[]).slice(0, max).entries()) guard.check(f, kind, i);
  } else {
    const src = frames as FrameSource;
    const n = Math.min(src.period ?? 1, max);
    for (let i = 0; i < n; i++) guard.check(src.next(i), src.kind, i);
  }
  return guard;
}

/**
 * Refuse to inject in the host's default-route namespace. Where `transport` runs, the network namespace
 * counts as the host's when it is not a named lab namespace (`ip netns identify` is empty), is PID 1's (or
 * PID 1's cannot be read, as in sandboxes without ptrace rights: then we assume the worst), and has a
 * default route. Inside a container PID 1 is the container's init, so a container with a default route
 * counts as "host" too — pass allowHostNamespace when that is intended.
 */
export async function assertNotHostNamespace(
  transport: Pick<Transport, 'run' | 'description'>,
  opts: SafetyOptions = {},
): Promise<void> {
  if (opts.allowOutsideLab || opts.allowHostNamespace) return;
  const named = await transport.run(['ip', 'netns', 'identify'], { timeoutMs: 10_000 });
  if (named.exitCode === 0 && named.stdout.trim() !== '') return; // a named (lab) namespace
  const self = await transport.run(['readlink', '/proc/self/ns/net'], { timeoutMs: 10_000 });
  const init = await transport.run(['readlink', '/proc/1/ns/net'], { timeoutMs: 10_000 });
  if (init.exitCode === 0 && self.exitCode === 0 && init.stdout.trim() !== self.stdout.trim()) return;
  const routes = await transport.run(['ip', '-j', 'route', 'show', 'default'], { timeoutMs: 10_000 });
  let defaults: unknown[];
  try {
    if (routes.exitCode !== 0) throw new Error(routes.stderr.trim());
    defaults = JSON.parse(routes.stdout || '[]') as unknown[];
  } catch (e) {
    // Not "this is the host": we could not tell. Say what is missing instead of a misleading refusal.
    throw new ChainprobeError(
      'E_MISSING_TOOL',
      `cannot read the routing table at ${transport.description}: iproute2's "ip -j" is needed there (${(e as Error).message || `exit ${routes.exitCode}`})`,
    );
  }
  if (defaults.length === 0) return;
  throw new ChainprobeError(
    'E_UNSAFE_DESTINATION',
    `refusing to inject in the host's default-route network namespace (${transport.description}): ` +
      'inject from a lab namespace, or pass allowHostNamespace if this host is itself the lab',
    true,
    { place: transport.description },
  );
}
