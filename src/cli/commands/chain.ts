/**
 * `chainprobe chain up|down|status|fault [--profile FILE]`: manage the chain a profile describes, through the
 * profile's driver (src/drivers; default: the embedded reference chain). Thin: every verb calls the driver.
 * A verb the driver cannot do is bad input (exit 2). up/down/fault hold the chain lock: while a run (or
 * another verb) holds it they are refused, naming the holder, or wait for it with --wait.
 */
import { loadProfile, type Profile } from '../../chain/profile.ts';
import { collectorFamily, collectorFamilyNames, DEFAULT_COLLECTOR_FAMILY } from '../../collector/kinds.ts';
import {
  type ChainDriver,
  type DriverStatus,
  describeFault,
  describeHolder,
  driverFor,
  type Fault,
  type LockOptions,
  requireVerb,
} from '../../drivers/index.ts';
import { DEFAULT_PROFILE_PATH } from '../../drivers/refchain/index.ts';
import { ChainprobeError } from '../../errors.ts';
import { UsageError } from '../errors.ts';
import { type ParseArgsOptionsConfig, runCommand } from '../options.ts';

const USAGE = `usage:
  chainprobe chain up     [--profile FILE] [--timeout SECONDS] [--collectors FAMILY] [--wait]
  chainprobe chain down   [--profile FILE] [--wait]
  chainprobe chain status [--profile FILE] [--json]
  chainprobe chain fault  [--profile FILE] [--wait] --hop HOP (--drop PCT | --rate RATE | --down | --rewrite-source IP | --mtu BYTES | --clear)
  chainprobe chain fault  [--profile FILE] [--wait] --clear            (every hop)

  --profile FILE  the chain's profile; its "driver" says who manages it (default: ${DEFAULT_PROFILE_PATH})
  --wait          when a run or another chain command holds the chain, wait for it instead of refusing
  --collectors FAMILY  flow collectors at the destination: ${collectorFamilyNames().join(' or ')} (default ${DEFAULT_COLLECTOR_FAMILY}; docs/collectors.md)
  RATE is a tc rate: 10mbit, 500kbit, 1mbps (bytes/s). The reference chain needs root.`;

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
      throw new UsageError(sub ? `unknown chain command "${sub}"` : 'missing chain command', USAGE);
  }
}

type Values = Record<string, string | boolean | undefined>;

/** A chain verb's options: its own, --profile, and (from runCommand) -h/--help; every error shows USAGE. */
function verb(
  args: string[],
  options: ParseArgsOptionsConfig,
  body: (v: Values) => Promise<number>,
): Promise<number> {
  const spec = { usage: USAGE, options: { ...options, profile: { type: 'string' } } as const };
  return runCommand(args, spec, (v) => body(v as Values));
}

const profileOf = (v: Values): Profile =>
  loadProfile(typeof v.profile === 'string' ? v.profile : DEFAULT_PROFILE_PATH);

function lockOptions(v: Values, verb: string): LockOptions {
  return {
    wait: v.wait === true,
    onWait: (h) => console.error(`chain ${verb}: waiting for ${describeHolder(h)}…`),
  };
}

const WAIT = { wait: { type: 'boolean' } } as const;

function up(args: string[]): Promise<number> {
  return verb(args, { timeout: { type: 'string' }, collectors: { type: 'string' }, ...WAIT }, upChain);
}

async function upChain(v: Values): Promise<number> {
  const collectors = typeof v.collectors === 'string' ? v.collectors : undefined;
  if (collectors !== undefined) collectorFamily(collectors); // unknown family: E_CONFIG, exit 2
  const profile = profileOf(v);
  const driver = driverFor(profile);
  const bringUp = requireVerb(driver, 'up');
  const timeoutS = v.timeout === undefined ? 30 : Number(v.timeout);
  if (!(timeoutS > 0))
    throw new UsageError(`--timeout must be a positive number of seconds (got "${v.timeout}")`);
  // Ctrl-C / SIGTERM during `up`: remove what was built so far, then exit 130.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`chain up: ${sig}, removing what was built…`);
    (driver.down?.({ wait: false }) ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    console.log(`chain up: ${profile.name} (driver ${driver.name})`);
    const r = await bringUp({
      timeoutMs: timeoutS * 1000,
      collectors,
      log: (l) => console.log(`  ${l}`),
      ...lockOptions(v, 'up'),
    });
    for (const l of r.summary) console.log(`  ${l}`);
    console.log(`chain up: ready in ${(r.tookMs / 1000).toFixed(2)} s`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function down(args: string[]): Promise<number> {
  return verb(args, { ...WAIT }, async (v) => {
    const driver = driverFor(profileOf(v));
    const r = await requireVerb(driver, 'down')(lockOptions(v, 'down'));
    const what = r.removed.length ? `removed ${r.removed.join(', ')}` : 'nothing was up';
    console.log(`chain down: ${what} (${(r.tookMs / 1000).toFixed(2)} s)`);
    return 0;
  });
}

function printStatus(s: DriverStatus): void {
  console.log(
    `chain ${s.profile} (driver ${s.driver}): ${s.up ? 'up' : 'down'}${s.up ? (s.healthy ? ', healthy' : ', UNHEALTHY') : ''}`,
  );
  if (s.lockedBy) console.log(`  in use by ${describeHolder(s.lockedBy)}`);
  for (const h of s.hops) {
    if (!h.reachable) {
      console.log(`  ${h.name} (${h.place}): not there`);
      continue;
    }
    console.log(
      `  ${h.name} (${h.place})${h.faults.length ? `  FAULTS: ${h.faults.map(describeFault).join(', ')}` : ''}`,
    );
    for (const i of h.interfaces)
      console.log(
        `    ${i.name.padEnd(9)} ${i.state.padEnd(5)} mtu ${String(i.mtu).padEnd(5)} ${i.mac ?? ''}  ${i.addresses.join(' ')}`,
      );
  }
  for (const n of s.notes) console.log(`  ${n}`);
  for (const p of s.problems) console.log(`  problem: ${p}`);
}

function status(args: string[]): Promise<number> {
  return verb(args, { json: { type: 'boolean' } }, async (v) => {
    const s = await requireVerb(driverFor(profileOf(v)), 'status')();
    if (v.json) console.log(JSON.stringify(s, null, 2));
    else printStatus(s);
    return s.up && s.healthy ? 0 : 1;
  });
}

const FAULT_FLAGS = ['drop', 'rate', 'down', 'rewrite-source', 'mtu', 'clear'] as const;

function faultFrom(flag: (typeof FAULT_FLAGS)[number], v: Values): Fault {
  const value = String(v[flag]);
  switch (flag) {
    case 'drop':
      if (!/^\d+$/.test(value) || Number(value) > 100)
        throw new UsageError(`--drop takes an integer percentage 0..100 (got "${value}")`);
      return { kind: 'drop', percent: Number(value) };
    case 'rate':
      return { kind: 'rate', rate: value };
    case 'down':
      return { kind: 'down' };
    case 'rewrite-source':
      return { kind: 'rewrite-source', ip: value };
    case 'mtu':
      if (!/^\d+$/.test(value)) throw new UsageError(`--mtu takes a number of bytes (got "${value}")`);
      return { kind: 'mtu', mtuBytes: Number(value) };
    case 'clear':
      throw new Error('unreachable: --clear is not a fault');
  }
}

function requireHop(driver: ChainDriver, hop: string): void {
  const hops = driver.profile.hops.map((h) => h.name);
  if (!hops.includes(hop))
    throw new ChainprobeError('E_CONFIG', `unknown hop "${hop}"; hops are ${hops.join(', ')}`, true);
}

const FAULT_OPTIONS = {
  hop: { type: 'string' },
  drop: { type: 'string' },
  rate: { type: 'string' },
  down: { type: 'boolean' },
  'rewrite-source': { type: 'string' },
  mtu: { type: 'string' },
  clear: { type: 'boolean' },
  ...WAIT,
} as const;

function fault(args: string[]): Promise<number> {
  return verb(args, FAULT_OPTIONS, setOrClearFault);
}

async function setOrClearFault(v: Values): Promise<number> {
  const chosen = FAULT_FLAGS.filter((k) => v[k] !== undefined);
  if (chosen.length !== 1)
    throw new UsageError(`give exactly one of ${FAULT_FLAGS.map((f) => `--${f}`).join(', ')}`);
  const driver = driverFor(profileOf(v));
  const hop = typeof v.hop === 'string' ? v.hop : undefined;
  if (hop) requireHop(driver, hop);
  if (chosen[0] === 'clear') {
    await requireVerb(driver, 'clearFaults')(hop, lockOptions(v, 'fault'));
    console.log(`chain fault: cleared ${hop ?? 'every hop'}`);
    return 0;
  }
  const setFault = requireVerb(driver, 'setFault');
  if (!hop) throw new UsageError(`--hop is required (${driver.profile.hops.map((h) => h.name).join(', ')})`);
  const active = await setFault(hop, faultFrom(chosen[0], v), lockOptions(v, 'fault'));
  console.log(
    `chain fault: ${hop}: ${active
      .filter((a) => a.hop === hop)
      .map((a) => describeFault(a.fault))
      .join(', ')}`,
  );
  return 0;
}
