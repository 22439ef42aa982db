/**
 * vitest fixtures for suites that run against a chain.
 *
 *   import { chainTest as test, expect } from 'chainprobe/vitest';
 *   test('≥ 90 % delivered', async ({ chain, probe }) => {
 *     const run = await probe({ count: 1000, pps: 1000, sizes: [100, 8000] });
 *     expect(run).toDeliverAtLeast(0.9);
 *   });
 *
 * `chain` (scope: file): holds the chain's lock for the file (waiting for a run or another suite that
 * holds it), brings the embedded reference chain up once per test file and down after it (or, with
 * CHAINPROBE_PROFILE set to another profile, uses that live chain as it is). Everything goes through the
 * profile's driver (src/drivers), so faults work on any chain whose driver can inject them. `probe` (per
 * test): one live run; its report goes to reports/suites/<file>/<test>/ and, when the test fails, the
 * per-hop pcapng and the HTML report are attached to the test result with `annotate`. Faults a test sets
 * with `chain.fault(...)` are cleared when the test ends, pass or fail.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test as base, expect } from 'vitest';
import { loadProfile, type Profile } from '../chain/profile.ts';
import {
  acquireChainLock,
  type ChainDriver,
  defaultProfile,
  driverFor,
  type Fault,
  requireVerb,
} from '../drivers/index.ts';
import type { RunResults } from '../report/results.ts';
import { writeArtifacts } from '../report/write.ts';
import { type InjectorKind, runChain } from '../run/run.ts';
import { resolveRuntimeKeys } from '../run/runtime-keys.ts';
import './matchers.ts';

export interface ProbeRequest {
  count?: number;
  pps?: number;
  sizes?: number[];
  injector?: InjectorKind;
}

export interface ChainHandle {
  profile: Profile;
  driver: ChainDriver;
  /** true when chainprobe brought the chain up itself (the embedded reference chain) */
  embedded: boolean;
  /** true once a test set a fault (the probe fixture clears them when the test ends) */
  faulted: boolean;
  fault(hop: string, fault: Fault): Promise<void>;
  clearFaults(): Promise<void>;
}

export interface ChainFixtures {
  chain: ChainHandle;
  probe: (req?: ProbeRequest) => Promise<RunResults>;
}

export const REPORT_ROOT = process.env.CHAINPROBE_REPORTS ?? 'reports';
const INDEX_FILE = () => join(REPORT_ROOT, 'suites', 'runs.json');

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);

export const chainTest = base.extend<ChainFixtures>({
  chain: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring
    async ({}, use) => {
      const external = process.env.CHAINPROBE_PROFILE;
      const profile = external ? loadProfile(external) : defaultProfile();
      const driver = driverFor(profile);
      // the whole file is one user of the chain: a CLI run or another suite waits, and we wait for them
      const lock = await acquireChainLock(driver.lockName, 'vitest suite', { wait: true });
      const embedded = !external;
      try {
        if (embedded) await requireVerb(driver, 'up')();
        const handle: ChainHandle = {
          profile,
          driver,
          embedded,
          faulted: false,
          fault: async (hop, f) => {
            handle.faulted = true;
            await requireVerb(driver, 'setFault')(hop, f);
          },
          clearFaults: async () => {
            await requireVerb(driver, 'clearFaults')();
            handle.faulted = false;
          },
        };
        await use(handle);
      } finally {
        try {
          if (embedded) await requireVerb(driver, 'down')();
        } finally {
          lock.release();
        }
      }
    },
    { scope: 'file' },
  ],
  probe: async ({ chain, task, annotate }, use) => {
    const dir = join(REPORT_ROOT, 'suites', slug(basename(task.file.name, '.test.ts')), slug(task.name));
    let last: { results: RunResults; html?: string; pcapng: string | null } | null = null;
    const runs: { title: string; href: string; verdict: 'pass' | 'fail'; deliveryRatio: number }[] = [];
    await use(async (req = {}) => {
      const outcome = await runChain({
        profile: chain.profile,
        count: req.count ?? 500,
        pps: req.pps ?? 1000,
        payloadBytes: req.sizes ?? [100],
        injector: req.injector ?? 'l2',
        runtimeKeys: await resolveRuntimeKeys(chain.profile, [], chain.driver),
        driver: chain.driver,
        captureDir: join(dir, 'pcaps'),
      });
      const paths = writeArtifacts(outcome.results, { reportDir: dir });
      last = { results: outcome.results, html: paths.html, pcapng: outcome.pcapng };
      runs.push({
        title: `${basename(task.file.name)} › ${task.name}`,
        href: join('suites', slug(basename(task.file.name, '.test.ts')), slug(task.name), 'index.html'),
        verdict: outcome.results.verdict,
        deliveryRatio: outcome.results.deliveryRatio,
      });
      return outcome.results;
    });
    // Faults set by a test live only for that test.
    if (chain.faulted) await chain.clearFaults();
    // Teardown runs while the test is still open for annotations; its errors are already recorded.
    const failed = (task.result?.errors?.length ?? 0) > 0 || task.result?.state === 'fail';
    // A run whose test passed had the verdict the test wanted (fault suites want 'fail').
    for (const r of runs)
      recordRun({ ...r, expectedVerdict: failed ? (r.verdict === 'pass' ? 'fail' : 'pass') : r.verdict });
    if (failed && last) {
      const l = last as { results: RunResults; html?: string; pcapng: string | null };
      if (l.pcapng)
        await annotate('per-hop capture (one interface per capture point)', {
          path: l.pcapng,
          contentType: 'application/vnd.tcpdump.pcap',
        });
      if (l.html) await annotate(`report (${l.results.verdict})`, { path: l.html, contentType: 'text/html' });
    }
  },
});

/** Every suite run is listed for the reports index (reports/index.html). */
function recordRun(entry: {
  title: string;
  href: string;
  verdict: 'pass' | 'fail';
  deliveryRatio: number;
  expectedVerdict: 'pass' | 'fail';
}): void {
  mkdirSync(join(REPORT_ROOT, 'suites'), { recursive: true });
  let all: (typeof entry)[] = [];
  try {
    all = JSON.parse(readFileSync(INDEX_FILE(), 'utf8'));
  } catch {}
  all = all.filter((e) => e.href !== entry.href).concat(entry);
  writeFileSync(INDEX_FILE(), JSON.stringify(all, null, 2));
}

export { expect };
