/**
 * The driver seam and the chain lock, without a chain: registry, unsupported verbs (exit 2), the lock
 * between real processes (refusal naming the holder, --wait, stale takeover), EPIPE on `chain status`.
 * Lock files go to a private CHAINPROBE_LOCK_DIR, so nothing here touches a live chain's lock.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { loadProfile, parseProfile } from '../../src/chain/profile.ts';
import { type CounterSnapshot, counterDelta, driverFor, requireVerb } from '../../src/drivers/index.ts';
import { ChainprobeError } from '../../src/errors.ts';

const lockDir = mkdtempSync(join(tmpdir(), 'cpt-lock-'));
process.env.CHAINPROBE_LOCK_DIR = lockDir; // read by lock.ts when first imported below
const { acquireChainLock, chainLockHolder } = await import('../../src/drivers/lock.ts'); // after the env is set

const env = { CHAINPROBE_LOCK_DIR: lockDir };
const reference = loadProfile('fixtures/reference.json');
const scratch = mkdtempSync(join(tmpdir(), 'cpt-driver-'));
const externalPath = join(scratch, 'external.json');
writeFileSync(
  externalPath,
  JSON.stringify({
    ...JSON.parse(readFileSync('fixtures/reference.json', 'utf8')),
    name: 'elsewhere',
    driver: 'external',
  }),
);

afterAll(() => {
  rmSync(lockDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const cli = (args: string[], o: { timeout?: number } = {}) =>
  execa('node', ['bin/chainprobe.js', ...args], { reject: false, timeout: o.timeout ?? 60_000, env });

/** Starts a process holding `name` (tsx, like the CLI) and resolves once it holds it. */
async function holder(name: string, purpose: string): Promise<{ p: ResultPromise }> {
  const p = execa('node', ['--import', 'tsx', 'test/chain/hold-lock.ts', name, purpose], {
    env,
    reject: false,
    stdin: 'pipe',
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('holder did not take the lock')), 20_000);
    p.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { p };
}

describe('driver registry', () => {
  test('the profile names its driver; existing profiles default to the reference chain', () => {
    expect(reference.driver).toBe('refchain');
    expect(driverFor(reference).name).toBe('refchain');
    expect(driverFor(loadProfile(externalPath)).name).toBe('external');
    expect(() => driverFor(parseProfile({ ...reference, driver: 'nope' }))).toThrow(
      /drivers are refchain, external/,
    );
  });

  test('a verb the driver does not support is bad input naming the driver', () => {
    const ext = driverFor(loadProfile(externalPath));
    const e = (() => {
      try {
        requireVerb(ext, 'up');
      } catch (x) {
        return x as ChainprobeError;
      }
    })();
    expect(e).toBeInstanceOf(ChainprobeError);
    expect(e?.badInput).toBe(true);
    expect(e?.message).toContain('"external" driver of profile elsewhere does not support chain up');
  });

  test('chain verbs on a driver without them exit 2 and say so; fault kinds the driver lacks too', async () => {
    const up = await cli(['chain', 'up', '--profile', externalPath]);
    expect(up.exitCode).toBe(2);
    expect(up.stderr).toContain('does not support chain up');
    // every verb takes --profile and goes to that profile's driver
    const others = [
      await cli(['chain', 'status', '--profile', externalPath]),
      await cli(['chain', 'down', '--profile', externalPath]),
      await cli(['chain', 'fault', '--profile', externalPath, '--hop', 'vxlan', '--down']),
    ];
    expect(others.map((r) => r.exitCode)).toEqual([2, 2, 2]);
    expect(others.map((r) => /does not support (chain \w+)/.exec(r.stderr)?.[1])).toEqual([
      'chain status',
      'chain down',
      'chain fault',
    ]);
    const mtu = await cli(['chain', 'fault', '--hop', 'security', '--mtu', '1300']);
    expect(mtu.exitCode).toBe(2);
    expect(mtu.stderr).toContain('cannot inject a "mtu" fault (it can: drop, rate, down, rewrite-source)');
    expect(mtu.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 300_000);
});

describe('counter deltas', () => {
  const snap = (takenAt: string, hops: CounterSnapshot['hops']): CounterSnapshot => ({
    driver: 'x',
    takenAt,
    hops,
    unavailable: [],
    tookMs: 1,
  });
  test('only what changed; a counter that went backwards is unavailable, never negative', () => {
    const d = counterDelta(
      snap('t0', { a: { 'if/x/rx_packets': 10, 'if/x/tx_packets': 5, 'sink/datagrams': 7 } }),
      snap('t1', { a: { 'if/x/rx_packets': 210, 'if/x/tx_packets': 5, 'sink/datagrams': 2 } }),
    );
    expect(d.hops).toEqual({ a: { 'if/x/rx_packets': 200 } });
    expect(d.unavailable).toEqual([
      { hop: 'a', reason: 'sink/datagrams went from 7 to 2 (reset during the run)' },
    ]);
  });
  test('a counter missing before the run (VPP hides zeros; a rule created) counts from 0', () => {
    const d = counterDelta(
      snap('t0', { a: { 'if/x/rx_packets': 10 } }),
      snap('t1', { a: { 'if/x/rx_packets': 10, 'err/ip4-input/ip4 MTU exceeded and DF set': 100 } }),
    );
    expect(d.hops).toEqual({ a: { 'err/ip4-input/ip4 MTU exceeded and DF set': 100 } });
    expect(d.unavailable).toEqual([]);
  });
});

describe('chain lock between processes', () => {
  test('chain down and run are refused while another process holds the chain, naming pid, command and start', async () => {
    const { p: h } = await holder('refchain', 'run');
    try {
      const down = await cli(['chain', 'down']);
      expect(down.exitCode).toBe(1);
      expect(down.stderr).toContain('E_CHAIN_BUSY');
      expect(down.stderr).toContain(`pid ${h.pid} (hold-lock refchain run) for run, since 20`);
      const run = await cli([
        'run',
        '--profile',
        'fixtures/reference.json',
        '--count',
        '10',
        '--sa-key',
        `1000=${'ab'.repeat(20)}`,
      ]);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(`the refchain chain is in use by pid ${h.pid}`);
      expect(chainLockHolder('refchain')?.pid).toBe(h.pid);
    } finally {
      h.kill('SIGTERM');
      await h;
    }
    expect(chainLockHolder('refchain')).toBeUndefined();
  });

  test('--wait waits for the holder, then proceeds', async () => {
    const { p: h } = await holder('refchain', 'run');
    const waiter = cli(['chain', 'fault', '--clear', '--wait']);
    await new Promise<void>((resolve) => {
      waiter.stderr?.on('data', (d: Buffer) => d.toString().includes('waiting for') && resolve());
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(waiter.exitCode).toBeNull(); // still waiting
    h.kill('SIGTERM');
    await h;
    const w = await waiter;
    expect(w.stderr).toContain(`waiting for pid ${h.pid}`);
    // the lock was ours; with no chain up the verb itself then fails on its own terms
    expect(w.stderr).not.toContain('E_CHAIN_BUSY');
    expect(w.stderr).toContain('the reference chain is not up');
  });

  test('the secrets of the holder command line are not in the lock', async () => {
    const lock = await acquireChainLock('secret', 'run');
    try {
      expect(readFileSync(join(lockDir, 'secret.lock'), 'utf8')).not.toContain('--sa-key=ab');
    } finally {
      lock.release();
    }
  });

  test('a lock whose holder died (or whose pid was reused) is taken over', async () => {
    const dead = await execa('sh', ['-c', 'echo $$']);
    const stale = (pid: number, procStart: string) =>
      writeFileSync(
        join(lockDir, 'stale.lock'),
        JSON.stringify({
          pid,
          command: 'chainprobe run',
          purpose: 'run',
          startedAt: 'x',
          host: hostname(),
          procStart,
        }),
      );
    stale(Number(dead.stdout), '1');
    const a = await acquireChainLock('stale', 'run');
    expect(a.tookOverFrom?.pid).toBe(Number(dead.stdout));
    a.release();
    stale(1, '999999999'); // pid 1 is alive, but it is not the process that took the lock
    const b = await acquireChainLock('stale', 'run');
    expect(b.tookOverFrom?.pid).toBe(1);
    expect(chainLockHolder('stale')?.pid).toBe(process.pid);
    b.release();
  });

  test('re-entrant in one process: released when the outermost holder releases', async () => {
    const outer = await acquireChainLock('nested', 'vitest suite');
    const inner = await acquireChainLock('nested', 'run');
    inner.release();
    expect(chainLockHolder('nested')?.purpose).toBe('vitest suite');
    outer.release();
    expect(chainLockHolder('nested')).toBeUndefined();
  });
});

describe('chain CLI', () => {
  test('chain status into a closed pipe does not crash (EPIPE)', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
    const script = 'node bin/chainprobe.js chain status | true; echo "exit=${PIPESTATUS[0]}"';
    const r = await execa('bash', ['-c', script], {
      reject: false,
      timeout: 30_000,
      env,
    });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stdout).toMatch(/exit=[01]$/);
  });
});
