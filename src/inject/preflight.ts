/**
 * Preflight checks run through the injector's transport before anything is sent: privilege, tools,
 * interface presence and MTU, each failing with a typed error that says what to do.
 */
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';
import type { FrameKind } from './types.ts';

type Runner = Pick<Transport, 'run' | 'description'>;

export async function requireRoot(t: Runner, why: string): Promise<void> {
  const r = await t.run(['id', '-u'], { timeoutMs: 10_000 });
  if (r.stdout.trim() !== '0')
    throw new ChainprobeError(
      'E_NO_PRIVILEGE',
      `${why} needs root (${t.description} runs as uid ${r.stdout.trim() || '?'}); run as root or with CAP_NET_RAW+CAP_NET_ADMIN`,
    );
}

export async function requireTool(t: Runner, tool: string, install: string): Promise<string> {
  const r = await t.run(['sh', '-c', 'command -v "$1"', 'sh', tool], { timeoutMs: 10_000 });
  const path = r.stdout.trim();
  if (r.exitCode !== 0 || !path)
    throw new ChainprobeError(
      'E_MISSING_TOOL',
      `${tool} is not installed (${t.description}); install it with: ${install}`,
      false,
      { tool },
    );
  return path;
}

export interface InterfaceInfo {
  ifname: string;
  mtu: number;
  operstate: string;
  flags: string[];
}

export async function interfaceInfo(t: Runner, ifname: string): Promise<InterfaceInfo> {
  if (!/^[^\s/]{1,15}$/.test(ifname))
    throw new ChainprobeError('E_NO_INTERFACE', `"${ifname}" is not a valid interface name`, true);
  const r = await t.run(['ip', '-j', 'link', 'show', 'dev', ifname], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) {
    throw new ChainprobeError(
      'E_NO_INTERFACE',
      `interface ${ifname} does not exist (${t.description}): ${r.stderr.trim()}`,
      true,
      {
        ifname,
        place: t.description,
      },
    );
  }
  const [link] = JSON.parse(r.stdout) as Array<{
    ifname: string;
    mtu: number;
    operstate: string;
    flags: string[];
  }>;
  return { ifname: link.ifname, mtu: link.mtu, operstate: link.operstate, flags: link.flags ?? [] };
}

/**
 * The largest frame must fit the egress MTU: an Ethernet frame may carry MTU bytes after its 14-byte header
 * (18 with one VLAN tag), an IPv4 packet may be MTU bytes. Otherwise the kernel refuses it with EMSGSIZE
 * (tcpreplay #680) or a tool truncates it (#1108), which we would only notice downstream.
 */
export function assertFitsMtu(info: InterfaceInfo, maxLengthBytes: number, kind: FrameKind): void {
  const limit = kind === 'ethernet' ? info.mtu + 14 : info.mtu;
  if (maxLengthBytes > limit) {
    const need = kind === 'ethernet' ? maxLengthBytes - 14 : maxLengthBytes;
    throw new ChainprobeError(
      'E_MTU',
      `the largest frame is ${maxLengthBytes} bytes (${kind === 'ethernet' ? `${need} bytes after the Ethernet header` : 'IPv4 packet'}) ` +
        `but ${info.ifname} has MTU ${info.mtu}: raise it to at least ${need} (ip link set dev ${info.ifname} mtu ${need})`,
      true,
      { ifname: info.ifname, mtu: info.mtu, maxLengthBytes, neededMtu: need },
    );
  }
}

export function requireUp(info: InterfaceInfo): void {
  if (!info.flags.includes('UP'))
    throw new ChainprobeError(
      'E_NO_INTERFACE',
      `interface ${info.ifname} is down (ip link set dev ${info.ifname} up)`,
      true,
      { ifname: info.ifname },
    );
}
