/**
 * `chainprobe chain up|down|status|fault`: the embedded reference chain (src/drivers/refchain). Thin: every
 * verb calls the library. `up` cleans up after itself on Ctrl-C; `down` is safe to run any number of times.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadProfile } from '../../chain/profile.ts';
import {
  type ChainStatus,
  chainDown,
  chainStatus,
  chainUp,
  clearFaults,
  type Fault,
  HOP_NAMES,
  setFault,
} from '../../drivers/refchain/index.ts';
import { UsageError } from '../errors.ts';

const USAGE = `usage:
  chainprobe chain up [--profile FILE] [--timeout SECONDS]
  chainprobe chain down
  chainprobe chain status [--json]
  chainprobe chain fault --hop ${HOP_NAMES.join('|')} (--drop PCT | --rate RATE | --down | --rewrite-source IP | --clear)
  chainprobe chain fault --clear            (every hop)

  RATE is a tc rate: 10mbit, 500kbit, 1mbps (bytes/s). Needs root.`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'up':
      return up(rest);
    case 'down':
      return down(rest);
    case 'status':
      return status(rest);
    case 'fault':
      return fault(rest);
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`${sub ? `unknown chain command "${sub}"` : 'missing chain command'}\n${USAGE}`);
  }
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
}

async function up(args: string[]): Promise<number> {
  const v = parse(args, { profile: { type: 'string' }, timeout: { type: 'string' } });
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const profile = typeof v.profile === 'string' ? loadProfile(v.profile) : undefined;
  const timeoutS = v.timeout === undefined ? 30 : Number(v.timeout);
  if (!(timeoutS > 0))
    throw new UsageError(`--timeout must be a positive number of seconds (got "${v.timeout}")`);
  // Ctrl-C / SIGTERM during `up`: remove what was built so far, then exit 130.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`chain up: ${sig}, removing what was built…`);
    chainDown({ profile }).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    console.log(
      'chain up: reference chain (namespaces, kernel VXLAN, nftables DNAT, strongSwan libipsec ESP)',
    );
    const r = await chainUp({ profile, timeoutMs: timeoutS * 1000, log: (l) => console.log(`  ${l}`) });
    console.log(
      `  SAs: ${r.sas.map((s) => `SPI ${s.spi} ${s.src} → ${s.dst}`).join(', ')} (keys for the analyser in a root-only file)`,
    );
    console.log(`  daemons: ${r.daemons.map((d) => `${d.what} pid ${d.pid} (${d.netns})`).join(', ')}`);
    console.log(`chain up: ready in ${(r.timingsMs.total / 1000).toFixed(2)} s`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function down(args: string[]): Promise<number> {
  const v = parse(args, {});
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const r = await chainDown();
  const what = r.namespaces.length
    ? `removed namespaces ${r.namespaces.join(', ')}${r.killed.length ? ` and stopped pids ${r.killed.join(', ')}` : ''}`
    : 'nothing was up';
  console.log(`chain down: ${what} (${(r.tookMs / 1000).toFixed(2)} s)`);
  return 0;
}

function printStatus(s: ChainStatus): void {
  console.log(
    `reference chain: ${s.up ? 'up' : 'down'}${s.up ? (s.healthy ? ', healthy' : ', UNHEALTHY') : ''}${s.upAt ? ` (since ${s.upAt})` : ''}`,
  );
  for (const h of s.hops) {
    if (!h.exists) {
      console.log(`  ${h.name} (${h.namespace}): no namespace`);
      continue;
    }
    console.log(
      `  ${h.name} (${h.namespace})${h.faults.length ? `  FAULTS: ${h.faults.map((f) => JSON.stringify(f)).join(' ')}` : ''}`,
    );
    for (const i of h.interfaces)
      console.log(
        `    ${i.name.padEnd(9)} ${i.state.padEnd(5)} mtu ${String(i.mtu).padEnd(5)} ${i.mac ?? ''}  ${i.addresses.join(' ')}`,
      );
  }
  for (const sa of s.sas) {
    for (const c of sa.children) {
      console.log(
        `  SA ${sa.hop}: IKE ${sa.ike}; ${c.child} ${c.state} ${c.protocol}${c.encap ? '-in-UDP' : ''} ${c.encryption} spi in ${c.spiIn} out ${c.spiOut}; in ${c.packetsIn} pkts, out ${c.packetsOut} pkts`,
      );
    }
  }
  for (const d of s.daemons)
    console.log(`  daemon ${d.what} pid ${d.pid} in ${d.netns}: ${d.alive ? 'running' : 'NOT RUNNING'}`);
  if (s.sink)
    console.log(
      `  sink ${s.sink.bind}: ${s.sink.packets} datagrams; sizes ${JSON.stringify(s.sink.sizes)}; sources ${JSON.stringify(s.sink.sources)}`,
    );
  for (const p of s.problems) console.log(`  problem: ${p}`);
}

async function status(args: string[]): Promise<number> {
  const v = parse(args, { json: { type: 'boolean' } });
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const s = await chainStatus();
  if (v.json) console.log(JSON.stringify(s, null, 2));
  else printStatus(s);
  return s.up && s.healthy ? 0 : 1;
}

async function fault(args: string[]): Promise<number> {
  const v = parse(args, {
    hop: { type: 'string' },
    drop: { type: 'string' },
    rate: { type: 'string' },
    down: { type: 'boolean' },
    'rewrite-source': { type: 'string' },
    clear: { type: 'boolean' },
  });
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const chosen = (['drop', 'rate', 'down', 'rewrite-source', 'clear'] as const).filter(
    (k) => v[k] !== undefined,
  );
  if (chosen.length !== 1)
    throw new UsageError(`give exactly one of --drop, --rate, --down, --rewrite-source, --clear\n${USAGE}`);
  const hop = typeof v.hop === 'string' ? v.hop : undefined;
  if (chosen[0] === 'clear') {
    await clearFaults(hop);
    console.log(`chain fault: cleared ${hop ?? 'every hop'}`);
    return 0;
  }
  if (!hop) throw new UsageError(`--hop is required (${HOP_NAMES.join(', ')})\n${USAGE}`);
  let f: Fault;
  switch (chosen[0]) {
    case 'drop': {
      const pct = Number(v.drop);
      if (!/^\d+$/.test(String(v.drop)) || pct > 100)
        throw new UsageError(`--drop takes an integer percentage 0..100 (got "${v.drop}")`);
      f = { kind: 'drop', percent: pct };
      break;
    }
    case 'rate':
      f = { kind: 'rate', rate: String(v.rate) };
      break;
    case 'down':
      f = { kind: 'down' };
      break;
    default:
      f = { kind: 'rewrite-source', ip: String(v['rewrite-source']) };
  }
  const all = await setFault(hop, f);
  console.log(
    `chain fault: ${hop}: ${(all[hop as keyof typeof all] ?? []).map((x) => JSON.stringify(x)).join(' ')}`,
  );
  return 0;
}
