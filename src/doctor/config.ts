/**
 * What each tunnel end is configured to do, read from the end itself: its VXLAN endpoint(s), its own
 * addresses, the underlay interface toward its remote, MTUs, and the MACs it accepts on the overlay.
 *
 * VXLAN endpoints come from a registry of readers, tried in order; the first that finds endpoints wins.
 * The kernel reader (`ip -d -j link show type vxlan`) ships here; a VPP reader (`vppctl show vxlan tunnel`)
 * registers itself with `registerVxlanConfigReader` — the VPP work brings its parser. A reader also says
 * how its data plane matches incoming packets to a tunnel: VPP matches the outer source against the
 * tunnel's `dst`, so a NAT rewriting that source breaks it; Linux matches by VNI only.
 */
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';

export interface VxlanEndpoint {
  /** interface name (kernel) or tunnel name (VPP) */
  device: string;
  vni: number;
  /** configured source address (`local`); undefined when unset (the kernel then picks by route) */
  local?: string;
  /** configured peer (`remote`); undefined for multicast/FDB-driven tunnels */
  remote?: string;
  dstPort: number;
  /** overlay MTU in bytes (largest inner IPv4 packet the interface sends) */
  mtu: number;
  /** the interface's own MAC (inner frames to it are accepted) */
  mac: string;
  /** MACs that accept inner frames besides `mac`: the bridge (BVI) the interface is a port of */
  bridgeMacs: string[];
  /** IPv4 addresses on the interface (or on its bridge/BVI) */
  innerAddresses: string[];
  /** static/learned neighbours on the overlay: inner IP → MAC (what this end puts in its inner frames) */
  neighbours: Record<string, string>;
}

export interface VxlanConfigReader {
  /** "linux", "vpp" */
  name: string;
  /** true when the data plane accepts a packet only if its outer source equals the tunnel's remote */
  matchesBySource: boolean;
  /** Endpoints at this place, [] when this data plane has none (or is absent). */
  read(t: Transport): Promise<VxlanEndpoint[]>;
}

const readers: VxlanConfigReader[] = [];

/** Add a reader (tried after the ones already registered). */
export function registerVxlanConfigReader(r: VxlanConfigReader): void {
  if (readers.some((x) => x.name === r.name)) return;
  readers.push(r);
}

export function vxlanConfigReaders(): readonly VxlanConfigReader[] {
  return readers;
}

async function json<T>(t: Transport, argv: string[]): Promise<T> {
  const r = await t.run(argv, { timeoutMs: 10_000 });
  if (r.exitCode !== 0)
    throw new ChainprobeError(
      'E_MISSING_TOOL',
      `${argv.join(' ')} failed at ${t.description}: ${r.stderr.trim() || `exit ${r.exitCode}`} (iproute2 with -j is needed)`,
    );
  try {
    return JSON.parse(r.stdout || '[]') as T;
  } catch {
    throw new ChainprobeError('E_MISSING_TOOL', `${argv.join(' ')} at ${t.description} did not print JSON`);
  }
}

interface IpLink {
  ifname: string;
  mtu: number;
  address?: string;
  master?: string;
  operstate?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; remote?: string; group?: string; local?: string; port?: number };
  };
}
interface IpAddr {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
interface IpNeigh {
  dst: string;
  lladdr?: string;
}

const ipv4Of = (addrs: IpAddr[], ifname: string) =>
  addrs
    .filter((a) => a.ifname === ifname)
    .flatMap((a) => a.addr_info ?? [])
    .filter((i) => i.family === 'inet')
    .map((i) => i.local);

export const linuxVxlanReader: VxlanConfigReader = {
  name: 'linux',
  matchesBySource: false,
  async read(t) {
    const links = await json<IpLink[]>(t, ['ip', '-d', '-j', 'link', 'show', 'type', 'vxlan']);
    if (links.length === 0) return [];
    const all = await json<IpLink[]>(t, ['ip', '-j', 'link', 'show']);
    const addrs = await json<IpAddr[]>(t, ['ip', '-j', 'addr', 'show']);
    const out: VxlanEndpoint[] = [];
    for (const l of links) {
      const d = l.linkinfo?.info_data ?? {};
      const bridge = l.master ? all.find((x) => x.ifname === l.master) : undefined;
      const neigh = await json<IpNeigh[]>(t, [
        'ip',
        '-j',
        'neigh',
        'show',
        'dev',
        bridge?.ifname ?? l.ifname,
      ]);
      out.push({
        device: l.ifname,
        vni: d.id ?? 0,
        local: d.local,
        remote: d.remote,
        dstPort: d.port ?? 8472,
        mtu: l.mtu,
        mac: l.address ?? '',
        bridgeMacs: bridge?.address ? [bridge.address] : [],
        innerAddresses: [...ipv4Of(addrs, l.ifname), ...(bridge ? ipv4Of(addrs, bridge.ifname) : [])],
        neighbours: Object.fromEntries(neigh.filter((n) => n.lladdr).map((n) => [n.dst, n.lladdr as string])),
      });
    }
    return out;
  },
};

registerVxlanConfigReader(linuxVxlanReader);

/** One tunnel end as doctor sees it. */
export interface EndConfig {
  reader: string;
  matchesBySource: boolean;
  vxlan: VxlanEndpoint;
  /** every IPv4 address of the host (not the overlay's) */
  ownAddresses: string[];
  /** the interface the route to `remote` leaves through, its MTU, and the source address the kernel picks */
  underlay: {
    device: string;
    mtu: number;
    source?: string;
    gateway?: string;
    /** the interface's MAC and the next hop's (for injectors that send whole frames) */
    mac?: string;
    nextHopMac?: string;
  };
  /** `ip -j route show` as read, for the report */
  routes: unknown[];
}

interface RouteGet {
  dev: string;
  prefsrc?: string;
  gateway?: string;
}

/**
 * Read one end. `device` picks the VXLAN interface when the host has several; `peerHint` (the other end's
 * remote) is used to pick the underlay when this end has no remote of its own.
 */
export async function readEndConfig(t: Transport, device?: string): Promise<EndConfig> {
  for (const reader of readers) {
    const endpoints = await reader.read(t);
    if (endpoints.length === 0) continue;
    const chosen = device ? endpoints.filter((e) => e.device === device) : endpoints;
    if (chosen.length !== 1)
      throw new ChainprobeError(
        'E_CONFIG',
        device
          ? `no VXLAN interface "${device}" at ${t.description} (found: ${endpoints.map((e) => e.device).join(', ')})`
          : `${endpoints.length} VXLAN interfaces at ${t.description} (${endpoints.map((e) => e.device).join(', ')}): name one`,
        true,
      );
    const vxlan = chosen[0];
    const addrs = await json<IpAddr[]>(t, ['ip', '-j', 'addr', 'show']);
    const overlay = new Set(vxlan.innerAddresses);
    const ownAddresses = addrs
      .flatMap((a) => (a.addr_info ?? []).filter((i) => i.family === 'inet').map((i) => i.local))
      .filter((a) => !overlay.has(a) && !a.startsWith('127.'));
    const routes = await json<unknown[]>(t, ['ip', '-j', 'route', 'show']);
    if (!vxlan.remote)
      throw new ChainprobeError(
        'E_CONFIG',
        `VXLAN interface ${vxlan.device} at ${t.description} has no unicast remote: doctor checks point-to-point tunnels`,
        true,
      );
    const [route] = await json<RouteGet[]>(t, ['ip', '-j', 'route', 'get', vxlan.remote]);
    const links = await json<IpLink[]>(t, ['ip', '-j', 'link', 'show', 'dev', route.dev]);
    const nextHop = route.gateway ?? vxlan.remote;
    const neigh = await json<IpNeigh[]>(t, ['ip', '-j', 'neigh', 'show', 'to', nextHop, 'dev', route.dev]);
    return {
      reader: reader.name,
      matchesBySource: reader.matchesBySource,
      vxlan,
      ownAddresses,
      underlay: {
        device: route.dev,
        mtu: links[0]?.mtu ?? 1500,
        source: route.prefsrc,
        gateway: route.gateway,
        mac: links[0]?.address,
        nextHopMac: neigh.find((n) => n.lladdr)?.lladdr,
      },
      routes,
    };
  }
  throw new ChainprobeError(
    'E_CONFIG',
    `no VXLAN endpoint at ${t.description} (readers tried: ${readers.map((r) => r.name).join(', ')})`,
    true,
  );
}

/**
 * The next hop's MAC, resolving it if the host has not talked to it yet: one empty UDP datagram to the
 * tunnel's remote (port 33434, as the control probes) makes the kernel ARP for the next hop.
 */
export async function resolveNextHopMac(
  t: Transport,
  device: string,
  nextHop: string,
  remote: string,
): Promise<string | undefined> {
  const lookup = async () =>
    (await json<IpNeigh[]>(t, ['ip', '-j', 'neigh', 'show', 'to', nextHop, 'dev', device])).find(
      (n) => n.lladdr && !/FAILED|INCOMPLETE/.test(JSON.stringify(n)),
    )?.lladdr;
  const known = await lookup();
  if (known) return known;
  await t.run(
    ['python3', '-c', 'import socket,sys; socket.socket(2, 2).sendto(b"", (sys.argv[1], 33434))', remote],
    { timeoutMs: 10_000 },
  );
  for (let i = 0; i < 20; i++) {
    const mac = await lookup();
    if (mac) return mac;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
