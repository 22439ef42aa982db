/** NAT44 (endpoint-dependent plugin): static mappings, interface roles, pool addresses and sessions. */
import { keyValues, unrecognised, vppLines } from './text.ts';

export interface VppNatEndpoint {
  address: string;
  /** absent for address-only mappings */
  port?: number;
}

export interface VppNatStaticMapping {
  /** "UDP", "TCP", "ICMP"; absent for address-only mappings */
  protocol?: string;
  local: VppNatEndpoint;
  external: VppNatEndpoint;
  vrf: number;
  /** trailing flags ("twice-nat", "self-twice-nat", "out2in-only") */
  flags: string[];
}

const endpoint = (s: string): VppNatEndpoint => {
  const [address, port] = s.split(':');
  return port === undefined
    ? { address: address as string }
    : { address: address as string, port: Number(port) };
};

/** ` UDP local 172.20.102.10:2055 external 10.10.10.10:2055 vrf 0` */
export function parseShowNat44StaticMappings(text: string): VppNatStaticMapping[] {
  const command = 'show nat44 static mappings';
  const lines = vppLines(text);
  if (!/^NAT44 static mappings:/.test(lines[0] ?? ''))
    throw unrecognised(command, 'no "NAT44 static mappings:" title', text);
  return lines
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const m = line.trim().match(/^(?:(\S+) )?local (\S+) external (\S+) vrf (\d+)\s*(.*)$/);
      if (!m) throw unrecognised(command, 'mapping not understood', line);
      return {
        ...(m[1] ? { protocol: m[1] } : {}),
        local: endpoint(m[2] as string),
        external: endpoint(m[3] as string),
        vrf: Number(m[4]),
        flags: (m[5] as string).split(/\s+/).filter(Boolean),
      };
    });
}

export interface VppNatInterface {
  name: string;
  inside: boolean;
  outside: boolean;
}

/** ` host-sec0 out`, ` ipip0 in` (an interface can be both: ` x in out`). */
export function parseShowNat44Interfaces(text: string): VppNatInterface[] {
  const command = 'show nat44 interfaces';
  const lines = vppLines(text);
  if (!/^NAT44 interfaces:/.test(lines[0] ?? ''))
    throw unrecognised(command, 'no "NAT44 interfaces:" title', text);
  return lines
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [name, ...roles] = line.trim().split(/\s+/);
      if (!name || roles.some((r) => r !== 'in' && r !== 'out'))
        throw unrecognised(command, 'role not in/out', line);
      return { name, inside: roles.includes('in'), outside: roles.includes('out') };
    });
}

export interface VppNatAddresses {
  pool: string[];
  twiceNat: string[];
}

export function parseShowNat44Addresses(text: string): VppNatAddresses {
  const command = 'show nat44 addresses';
  const out: VppNatAddresses = { pool: [], twiceNat: [] };
  let into: string[] | undefined;
  for (const line of vppLines(text)) {
    if (/^NAT44 pool addresses:/.test(line)) into = out.pool;
    else if (/^NAT44 twice-nat pool addresses:/.test(line)) into = out.twiceNat;
    else if (/^\d+\.\d+\.\d+\.\d+\s*$/.test(line)) {
      if (!into) throw unrecognised(command, 'address before a pool title', text);
      into.push(line.trim());
    }
  }
  if (!into) throw unrecognised(command, 'no "NAT44 pool addresses:" title', text);
  return out;
}

/** Addresses and ports of a flow (the fields VPP printed; a rewrite names only what it changes). */
export interface VppNatFlowFields {
  saddr?: string;
  sport?: number;
  daddr?: string;
  dport?: number;
}

export interface VppNatSession {
  thread: number;
  protocol: string;
  /** the flow as it arrives from inside (i2o, node nat44-ed-in2out) / outside (o2i), and what NAT writes into it */
  i2o: { match: VppNatFlowFields; rewrite: VppNatFlowFields };
  o2i: { match: VppNatFlowFields; rewrite: VppNatFlowFields };
  totalPackets: number;
  totalBytes: number;
  kind: 'static' | 'dynamic';
}

export interface VppNatSessions {
  /** as VPP counts them, per thread */
  perThread: { thread: number; name: string; sessions: number }[];
  sessions: VppNatSession[];
}

/** `saddr A sport P daddr B dport Q proto UDP fib_idx 0` (match) or `saddr A sport P` (rewrite) */
const flowFields = (s: string): VppNatFlowFields => {
  const kv = keyValues(s);
  return {
    ...(kv.saddr ? { saddr: kv.saddr } : {}),
    ...(kv.sport ? { sport: Number(kv.sport) } : {}),
    ...(kv.daddr ? { daddr: kv.daddr } : {}),
    ...(kv.dport ? { dport: Number(kv.dport) } : {}),
  };
};

export function parseShowNat44Sessions(text: string): VppNatSessions {
  const command = 'show nat44 sessions';
  const lines = vppLines(text);
  if (!/^NAT44 ED sessions:/.test(lines[0] ?? ''))
    throw unrecognised(command, 'no "NAT44 ED sessions:" title', text);
  const out: VppNatSessions = { perThread: [], sessions: [] };
  let session: Partial<VppNatSession> & { i2o?: VppNatSession['i2o']; o2i?: VppNatSession['o2i'] } = {};
  let thread = 0;
  const flush = () => {
    if (session.i2o && session.o2i && session.totalPackets !== undefined)
      out.sessions.push(session as VppNatSession);
    session = {};
  };
  for (const line of lines.slice(1)) {
    const t = line.match(/^-+ thread (\d+) (\S+): (\d+) sessions -+/);
    const proto = line.match(/^\s+i2o \S+ proto (\S+)/);
    const flow = line.match(/^\s+(i2o|o2i) flow: match: (.*?) rewrite: (.*)$/);
    const total = line.match(/^\s+total pkts (\d+), total bytes (\d+)/);
    const kind = line.match(/^\s+(static|dynamic) translation/);
    if (t) {
      flush();
      thread = Number(t[1]);
      out.perThread.push({ thread, name: t[2] as string, sessions: Number(t[3]) });
    } else if (proto) {
      flush();
      session = { thread, protocol: proto[1] as string };
    } else if (flow)
      session[flow[1] as 'i2o' | 'o2i'] = {
        match: flowFields(flow[2] as string),
        rewrite: flowFields(flow[3] as string),
      };
    else if (total) {
      session.totalPackets = Number(total[1]);
      session.totalBytes = Number(total[2]);
    } else if (kind) session.kind = kind[1] as 'static' | 'dynamic';
  }
  flush();
  return out;
}
