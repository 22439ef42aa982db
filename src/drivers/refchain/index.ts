/**
 * The embedded reference chain: Linux namespaces wired like the VPP deployment, every function done by an
 * independent data plane (kernel VXLAN + bridge, nftables DNAT, strongSwan kernel-libipsec ESP, kernel
 * fragmentation/reassembly). Nothing of chainprobe is in the packet path.
 *
 *   chainUp()  → builds it, waits for the IPsec SA and for probes (100 B, 8000 B) to cross end to end
 *   chainDown() → removes every namespace, daemon and file; safe to run twice, finds what killed runs left
 *   chainStatus(), setFault(), clearFaults(), loadRuntimeSas(), readSinkCounters(), sendProbe()
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfile, type Profile } from '../../chain/profile.ts';
import type { CollectorReading } from '../../collector/collector.ts';
import { collectorFamily, DEFAULT_COLLECTOR_FAMILY } from '../../collector/kinds.ts';
import { ChainprobeError } from '../../errors.ts';
import { parseCharonKeys } from '../../transform/esp-sa.ts';
import type { InterfaceStatus } from '../driver.ts';
import { type Fault, validateFault } from '../fault.ts';
import {
  charonLogTail,
  initiate,
  listSas,
  loadAndInitiate,
  readKeyLog,
  type SaStatus,
  startCharon,
  waitVici,
  writeCharonConf,
} from './charon.ts';
import { collectorPorts, readCollectors, startCollectors } from './collectors.ts';
import { command, inNetns, ipBatch } from './command.ts';
import { isAlive, netnsPids, stopPids, waitFor } from './daemon.ts';
import {
  type ActiveFaults,
  clearFaults as clearFaultsIn,
  readFaults,
  setFault as setFaultIn,
} from './fault.ts';
import { checkPrerequisites } from './prerequisites.ts';
import {
  type ChainState,
  type DaemonRecord,
  ensureDir,
  RUN_DIR,
  readJson,
  readState,
  runPath,
  writePrivate,
  writeState,
} from './rundir.ts';
import {
  type ProbeOptions,
  readSink,
  type SinkCounters,
  sendProbe as sendProbeIn,
  startSink,
} from './sink.ts';
import {
  HOP_NAMES,
  type HopName,
  linkPlan,
  namespacesOf,
  natRuleset,
  sysctlPlan,
  type Topology,
  topologyOf,
} from './topology.ts';

export type { ActiveFaults, Fault, HopName, ProbeOptions, SaStatus, SinkCounters, Topology };
export { HOP_NAMES, topologyOf };

export const DEFAULT_PROFILE_PATH = fileURLToPath(
  new URL('../../../fixtures/reference.json', import.meta.url),
);
export const defaultProfile = (): Profile => loadProfile(DEFAULT_PROFILE_PATH);

/** A live ESP SA as the analyser needs it. Keys never leave the machine (sas.json is 0600 in a 0700 dir). */
export interface RuntimeSa {
  spi: number;
  key: Uint8Array; // 16 bytes, AES-GCM-128
  salt: Uint8Array; // 4 bytes (RFC 4106)
  src: string; // tunnel endpoints
  dst: string;
  /** seen from the security hop: 'out' = security → destination (SPI 1000), 'in' = the reverse */
  direction: 'out' | 'in';
  encapsulation: { kind: 'udp'; srcPort: number; dstPort: number } | { kind: 'none' };
}

export interface ChainUpOptions {
  profile?: Profile;
  log?: (line: string) => void;
  /** overall limit for `up` (default 30 s) */
  timeoutMs?: number;
  /** flow-collector family at the destination (collector/kinds.ts; default nfdump) */
  collectors?: string;
}

export interface ChainUpResult {
  profile: string;
  namespaces: string[];
  daemons: DaemonRecord[];
  sas: { spi: number; direction: 'out' | 'in'; src: string; dst: string }[];
  probes: { sizeBytes: number; delivered: boolean }[];
  timingsMs: { teardown: number; network: number; ipsec: number; probe: number; total: number };
}

const sasPath = () => runPath('sas.json');

function stateOrThrow(): { state: ChainState; topology: Topology } {
  const state = readState();
  if (!state)
    throw new ChainprobeError('E_CHAIN', 'the reference chain is not up (run `chainprobe chain up`)');
  const profile =
    state.profile === DEFAULT_PROFILE_PATH || !existsSync(state.profile)
      ? defaultProfile()
      : loadProfile(state.profile);
  return { state, topology: topologyOf(profile) };
}

export async function chainUp(opts: ChainUpOptions = {}): Promise<ChainUpResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const profile = opts.profile ?? defaultProfile();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = t0 + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const t = topologyOf(profile);
  const collectors = opts.collectors ?? DEFAULT_COLLECTOR_FAMILY;
  collectorFamily(collectors); // an unknown family is bad input before anything is torn down
  checkPrerequisites();

  const down = await chainDown({ profile });
  if (down.namespaces.length || down.killed.length)
    log(`removed leftovers: ${[...down.namespaces, ...down.killed.map((p) => `pid ${p}`)].join(', ')}`);
  const tTeardown = Date.now();

  const state: ChainState = {
    profile: profile.name === 'reference' && !opts.profile ? DEFAULT_PROFILE_PATH : profile.name,
    namespaces: namespacesOf(t),
    daemons: [],
    collectors,
  };
  try {
    ensureDir(RUN_DIR);
    writeState(state); // before anything exists: a killed `up` is still cleaned up by the next up/down
    for (const ns of state.namespaces) await command('ip', ['netns', 'add', ns]);
    await Promise.all(sysctlPlan(t).map((s) => inNetns(s.ns, 'sysctl', ['-q', '-w', ...s.settings])));
    for (const step of linkPlan(t)) await ipBatch(step.ns, step.lines);
    await inNetns(t.ns.sec, 'nft', ['-f', '-'], { input: natRuleset(t, collectorPorts(collectors)) });
    const tNetwork = Date.now();
    log(
      `namespaces ${state.namespaces.join(', ')}: links, VXLAN VNI ${t.vx.vni} + bridge ${t.vx.bridge}, DNAT ${t.nat.matchIp}:${t.nat.matchPort} → ${t.nat.toIp}:${t.nat.toPort} (${tNetwork - tTeardown} ms)`,
    );

    // A fresh PSK per `up`, only ever written to the 0600 swanctl.conf files.
    const psk = randomBytes(32).toString('hex');
    writeCharonConf(t, 'destination', psk);
    writeCharonConf(t, 'security', psk);
    const record = (what: DaemonRecord['what'], netns: string, pid: number) => {
      state.daemons.push({ what, pid, netns, startedAt: new Date().toISOString() });
      writeState(state);
      return pid;
    };
    const dstPid = record('charon-destination', t.ns.dst, startCharon(t, 'destination'));
    const secPid = record('charon-security', t.ns.sec, startCharon(t, 'security'));
    const sinkPid = record('sink', t.ns.dst, startSink(t));
    await startCollectors(t, state, left());
    await Promise.all([waitVici('destination', dstPid, left()), waitVici('security', secPid, left())]);
    await loadAndInitiate('destination');
    await loadAndInitiate('security');
    await initiate(Math.min(left(), 15_000));
    // libipsec's TUN: a longer queue removes its TX drops under load (REFCHAIN measurements)
    await waitFor(
      'ipsec0 in the security hop',
      async () =>
        (await command('ip', ['-n', t.ns.sec, 'link', 'show', t.sec.tun], { check: false })).exitCode === 0
          ? true
          : undefined,
      left(),
    );
    await command('ip', ['-n', t.ns.sec, 'link', 'set', t.sec.tun, 'txqueuelen', '10000']);
    const sas = await exportSas(t, left());
    const tIpsec = Date.now();
    log(
      `IPsec: IKEv2 SA established, ESP AES-GCM-128 SPI ${t.esp.spiOut} out / ${t.esp.spiIn} in, UDP-encapsulated ${t.esp.natt ? `${t.esp.natt.srcPort}` : '-'} (${tIpsec - tNetwork} ms)`,
    );

    const probes = await probeEndToEnd(t, sinkPid, left());
    const tProbe = Date.now();
    log(
      `probes delivered end to end: ${probes.map((p) => `${p.sizeBytes} B`).join(', ')} (${tProbe - tIpsec} ms)`,
    );
    state.upAt = new Date().toISOString();
    writeState(state);
    return {
      profile: profile.name,
      namespaces: state.namespaces,
      daemons: state.daemons,
      sas: sas.map(({ spi, direction, src, dst }) => ({ spi, direction, src, dst })),
      probes,
      timingsMs: {
        teardown: tTeardown - t0,
        network: tNetwork - tTeardown,
        ipsec: tIpsec - tNetwork,
        probe: tProbe - tIpsec,
        total: tProbe - t0,
      },
    };
  } catch (e) {
    const tails = ['security', 'destination']
      .map((r) => `  charon (${r}):\n${charonLogTail(r as 'security' | 'destination')}`)
      .join('\n');
    // CHAINPROBE_REFCHAIN_KEEP=1 leaves a failed chain in place for debugging (`chain down` removes it)
    if (process.env.CHAINPROBE_REFCHAIN_KEEP !== '1') await chainDown({ profile }).catch(() => {});
    const msg = e instanceof Error ? e.message : String(e);
    throw new ChainprobeError(
      e instanceof ChainprobeError ? e.code : 'E_CHAIN',
      `chain up failed: ${msg}\n${tails}\n(everything it created was removed)`,
    );
  }
}

/** Reads the keys charon logged for the CHILD_SA and stores them root-only for loadRuntimeSas(). */
async function exportSas(t: Topology, timeoutMs: number): Promise<RuntimeSa[]> {
  const want = [t.esp.spiOut, t.esp.spiIn];
  const keys = await waitFor(
    'ESP keys in the security charon log',
    () => {
      const ks = parseCharonKeys(readKeyLog('security'), { role: 'initiator' });
      return want.every((spi) => ks.some((k) => k.spi === spi)) ? ks : undefined;
    },
    timeoutMs,
  );
  const encap = t.esp.natt ? { kind: 'udp' as const, ...t.esp.natt } : { kind: 'none' as const };
  const sas = want.map((spi): RuntimeSa => {
    const k = keys.find((x) => x.spi === spi)!;
    const out = k.local === 'out';
    return {
      spi,
      key: k.key,
      salt: k.salt,
      src: out ? t.sec.outIp : t.dst.inIp,
      dst: out ? t.dst.inIp : t.sec.outIp,
      direction: k.local,
      encapsulation: encap,
    };
  });
  writePrivate(
    sasPath(),
    JSON.stringify(
      sas.map((s) => ({
        ...s,
        key: Buffer.from(s.key).toString('hex'),
        salt: Buffer.from(s.salt).toString('hex'),
      })),
    ),
  );
  return sas;
}

/** The live SAs with keys, for decrypting captures. Root only; never print them. */
export function loadRuntimeSas(): RuntimeSa[] {
  const raw = readJson<(Omit<RuntimeSa, 'key' | 'salt'> & { key: string; salt: string })[]>(sasPath());
  if (!raw) throw new ChainprobeError('E_CHAIN', `no live SAs at ${sasPath()}: is the reference chain up?`);
  return raw.map((s) => ({
    ...s,
    key: Uint8Array.from(Buffer.from(s.key, 'hex')),
    salt: Uint8Array.from(Buffer.from(s.salt, 'hex')),
  }));
}

async function probeEndToEnd(
  t: Topology,
  sinkPid: number,
  timeoutMs: number,
): Promise<{ sizeBytes: number; delivered: boolean }[]> {
  const out: { sizeBytes: number; delivered: boolean }[] = [];
  await readSink(sinkPid, 10_000); // generous: Python starts slowly on a loaded machine
  for (const size of [100, 8000]) {
    // the first datagram may race the route libipsec installs: resend until one arrives
    await waitFor(
      `a ${size}-byte probe to arrive at the sink`,
      async () => {
        const before = (await readSink(sinkPid)).sizes[String(size)] ?? 0;
        await sendProbeIn(t, { size });
        const until = Date.now() + 300;
        while (Date.now() < until) {
          if (((await readSink(sinkPid)).sizes[String(size)] ?? 0) > before) return true;
          await new Promise((r) => setTimeout(r, 20));
        }
        return undefined;
      },
      timeoutMs,
      0,
    );
    out.push({ sizeBytes: size, delivered: true });
  }
  return out;
}

export interface ChainDownResult {
  namespaces: string[];
  killed: number[];
  tookMs: number;
}

/** Removes every namespace (and with them every link), daemon and file of the chain. Safe to run twice. */
export async function chainDown(opts: { profile?: Profile } = {}): Promise<ChainDownResult> {
  const t0 = Date.now();
  const names = new Set([
    ...namespacesOf(topologyOf(opts.profile ?? defaultProfile())),
    ...(readState()?.namespaces ?? []),
  ]);
  const existing = [...names].filter((ns) => existsSync(`/run/netns/${ns}`));
  // Processes inside our namespaces — found through the kernel, not only through our pid record.
  const pids = [...new Set((await Promise.all(existing.map(netnsPids))).flat())];
  const survivors = await stopPids(pids);
  if (survivors.length)
    throw new ChainprobeError(
      'E_CHAIN',
      `chain down: pid${survivors.length > 1 ? 's' : ''} ${survivors.join(', ')} did not exit after SIGKILL; namespaces left in place`,
    );
  for (const ns of existing) await command('ip', ['netns', 'del', ns], { check: false });
  rmSync(RUN_DIR, { recursive: true, force: true });
  try {
    rmdirSync(dirname(RUN_DIR)); // /run/chainprobe, if nothing else of chainprobe lives there
  } catch {
    /* not empty or already gone */
  }
  return { namespaces: existing, killed: pids, tookMs: Date.now() - t0 };
}

export interface ChainStatus {
  up: boolean;
  healthy: boolean;
  problems: string[];
  profile?: string;
  upAt?: string;
  hops: {
    name: string;
    namespace: string;
    exists: boolean;
    interfaces: InterfaceStatus[];
    faults: Fault[];
  }[];
  sas: { hop: 'security' | 'destination'; ike: string; children: SaStatus[] }[];
  daemons: (DaemonRecord & { alive: boolean })[];
  sink?: SinkCounters;
}

async function interfacesOf(ns: string): Promise<InterfaceStatus[]> {
  const r = await command('ip', ['-j', '-n', ns, 'addr', 'show'], { check: false, timeoutMs: 5000 });
  if (r.exitCode !== 0) return [];
  const links = JSON.parse(r.stdout || '[]') as {
    ifname: string;
    address?: string;
    mtu: number;
    operstate: string;
    flags: string[];
    addr_info?: { family: string; local: string; prefixlen: number }[];
  }[];
  return links
    .filter((l) => l.ifname !== 'lo')
    .map((l) => ({
      name: l.ifname,
      mac: l.address,
      mtu: l.mtu,
      state: l.flags.includes('UP') ? (l.operstate === 'UNKNOWN' ? 'UP' : l.operstate) : 'DOWN',
      addresses: (l.addr_info ?? [])
        .filter((a) => a.family === 'inet')
        .map((a) => `${a.local}/${a.prefixlen}`),
    }));
}

/** Hops, interfaces, addresses, SAs (never keys), daemons, sink counters, faults and health. */
export async function chainStatus(): Promise<ChainStatus> {
  const state = readState();
  const t = topologyOf(state && existsSync(state.profile) ? loadProfile(state.profile) : defaultProfile());
  const faults = readFaults();
  const problems: string[] = [];
  const nsOf = {
    injector: t.ns.gen,
    ...Object.fromEntries(HOP_NAMES.map((h) => [h, t.hops[h].ns])),
  } as Record<string, string>;
  const hops = await Promise.all(
    Object.entries(nsOf).map(async ([name, ns]) => {
      const exists = existsSync(`/run/netns/${ns}`);
      if (!exists && state) problems.push(`namespace ${ns} (${name}) is missing`);
      return {
        name,
        namespace: ns,
        exists,
        interfaces: exists ? await interfacesOf(ns) : [],
        faults: faults[name as HopName] ?? [],
      };
    }),
  );
  const daemons = (state?.daemons ?? []).map((d) => ({ ...d, alive: isAlive(d.pid) }));
  for (const d of daemons) if (!d.alive) problems.push(`${d.what} (pid ${d.pid}) is not running`);
  const sas: ChainStatus['sas'] = [];
  for (const hop of ['security', 'destination'] as const) {
    const list = await listSas(hop).catch((e: Error) => {
      problems.push(`swanctl (${hop}): ${e.message}`);
      return [];
    });
    for (const s of list) sas.push({ hop, ...s });
    if (state?.upAt && !list.some((s) => s.children.some((c) => c.state === 'INSTALLED')))
      problems.push(`no INSTALLED CHILD_SA in the ${hop} hop`);
  }
  const sinkPid = daemons.find((d) => d.what === 'sink' && d.alive)?.pid;
  const sink = sinkPid ? await readSink(sinkPid).catch(() => undefined) : undefined;
  for (const [hop, fs] of Object.entries(faults))
    if (fs?.length) problems.push(`fault active on ${hop}: ${fs.map((f) => f.kind).join(', ')}`);
  if (state && !state.upAt) problems.push('`chain up` did not finish (killed or still running)');
  return {
    up: !!state?.upAt,
    healthy: !!state?.upAt && problems.length === 0,
    problems,
    profile: state?.profile,
    upAt: state?.upAt,
    hops,
    sas,
    daemons,
    sink,
  };
}

function hopName(hop: string): HopName {
  if (!(HOP_NAMES as readonly string[]).includes(hop))
    throw new ChainprobeError('E_CONFIG', `unknown hop "${hop}"; hops are ${HOP_NAMES.join(', ')}`, true);
  return hop as HopName;
}

export async function setFault(hop: string, fault: Fault): Promise<ActiveFaults> {
  const h = hopName(hop); // bad input is reported before "the chain is not up"
  validateFault(fault);
  return setFaultIn(stateOrThrow().topology, h, fault);
}

export async function clearFaults(hop?: string): Promise<ActiveFaults> {
  const h = hop === undefined ? undefined : hopName(hop);
  return clearFaultsIn(stateOrThrow().topology, h);
}

/** Restarts the flow collectors empty: what they report next covers only what follows. */
export async function resetChainCollectors(): Promise<void> {
  const { state, topology } = stateOrThrow();
  await startCollectors(topology, state, 10_000);
}

/** What the flow collectors decoded since their last (re)start; they are restarted empty. */
export async function readChainCollectors(): Promise<CollectorReading[]> {
  const { state, topology } = stateOrThrow();
  return readCollectors(topology, state);
}

/** Sink counters right now (the sink dumps them on demand). */
export async function readSinkCounters(): Promise<SinkCounters> {
  const { state } = stateOrThrow();
  const sink = state.daemons.find((d) => d.what === 'sink');
  if (!sink) throw new ChainprobeError('E_CHAIN', 'the chain has no UDP sink recorded');
  return readSink(sink.pid);
}

/** Sends plain UDP datagrams through the chain from the injector namespace (kernel VXLAN, not our engine). */
export async function sendProbe(o: ProbeOptions): Promise<void> {
  return sendProbeIn(stateOrThrow().topology, o);
}

export { RUN_DIR };
