/**
 * The users' production layout: AWS Traffic Mirroring → mirror target (VXLAN VNI 100 decap, destination
 * rewritten to the GCP forwarder on UDP 8081, mirrored source preserved) → IPsec tunnel → GCP forwarder.
 *
 * Runs against any production-mode profile given with CHAINPROBE_PROFILE (fixtures/production.json is the
 * template, in documentation addresses); skipped, with the reason printed, otherwise. ESP keys negotiated
 * by IKE are given as CHAINPROBE_SA_KEY="SPI=KEYSALT[,SPI=KEYSALT]" (never printed). Capture points on
 * several hosts have several clocks: each host's offset is estimated over its transport and stated.
 */
import { join } from 'node:path';
import { describe } from 'vitest';
import { loadProfile, type Profile } from '../src/chain/profile.ts';
import { parseSaKeys } from '../src/cli/options.ts';
import { exchangeClockOffset, formatOffset } from '../src/clock/index.ts';
import { writeArtifacts } from '../src/report/write.ts';
import { runChain } from '../src/run/run.ts';
import { openTransport } from '../src/transport/index.ts';
import { expect, chainTest as test } from '../src/vitest/index.ts';

const FORWARDER_PORT = 8081;
const VNI = 100;

/** What makes a profile the production mode; [] when it is one. */
function productionModeProblems(p: Profile): string[] {
  const problems: string[] = [];
  const t = p.stages.map((s) => s.transform).filter((x) => x !== undefined);
  const decap = t.find((x) => x.kind === 'vxlan-decap');
  if (p.traffic.outer.vni !== VNI || decap?.kind !== 'vxlan-decap' || decap.vni !== VNI)
    problems.push(`VXLAN VNI ${VNI} injected and decapsulated`);
  const nat = t.find((x) => x.kind === 'dnat44');
  if (nat?.kind !== 'dnat44' || nat.rewrite.dstPort !== FORWARDER_PORT)
    problems.push(`a destination NAT to the forwarder on UDP ${FORWARDER_PORT}`);
  if (!t.some((x) => x.kind === 'esp-encrypt') || t[t.length - 1]?.kind !== 'esp-decrypt')
    problems.push('an IPsec tunnel (esp-encrypt … esp-decrypt)');
  if (!p.captures.some((c) => c.stage === p.stages[p.stages.length - 1].name))
    problems.push('a capture point at the delivered stage');
  return problems;
}

test('fixtures/production.json validates against the profile schema and is a production-mode profile', () => {
  const p = loadProfile('fixtures/production.json');
  expect(productionModeProblems(p)).toEqual([]);
  // documentation ranges only
  expect(p.labPrefixes).toEqual(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']);
});

const PROFILE = process.env.CHAINPROBE_PROFILE;
/** Why the live tests cannot run here, or undefined when they can. */
function skipReason(): string | undefined {
  if (!PROFILE)
    return 'set CHAINPROBE_PROFILE=<production-mode profile> (template: fixtures/production.json), and CHAINPROBE_SA_KEY=SPI=KEYSALT for IKE-negotiated keys';
  const problems = productionModeProblems(loadProfile(PROFILE));
  return problems.length
    ? `${PROFILE} is not a production-mode profile: it lacks ${problems.join('; ')}`
    : undefined;
}
const SKIP = skipReason();
if (SKIP) console.log(`suites/production.test.ts: live production tests skipped — ${SKIP}`);

describe.skipIf(SKIP !== undefined)('production chain (CHAINPROBE_PROFILE)', () => {
  test('every host states its clock offset against this one', async ({ chain, annotate }) => {
    for (const hop of chain.profile.hops) {
      if (hop.transport.kind === 'local' || hop.transport.kind === 'netns') continue;
      const t = await openTransport(hop.transport);
      try {
        const o = await exchangeClockOffset(t);
        await annotate(`clock of hop "${hop.name}": ${formatOffset(o)} (${o.method})`);
        expect(o.uncertaintyNs).toBeGreaterThan(0);
      } finally {
        await t.close();
      }
    }
  });

  test('mirrored traffic reaches the forwarder on 8081 with its source, jumbo probes in fragments', async ({
    chain,
    task,
  }) => {
    const p = chain.profile;
    const outcome = await runChain({
      profile: p,
      count: 300,
      pps: 200,
      payloadBytes: [100, 8000],
      injector: 'tcpreplay', // the injector host is a remote VM: tcpreplay runs there through SSH
      runtimeKeys: parseSaKeys((process.env.CHAINPROBE_SA_KEY ?? '').split(',').filter(Boolean)),
      captureDir: join('reports', 'suites', 'production', task.id, 'pcaps'),
    });
    writeArtifacts(outcome.results, { reportDir: join('reports', 'suites', 'production', task.id) });
    const run = outcome.results;
    expect(run).toDeliverAtLeast(p.acceptance.minDeliveryRatio);
    expect(run).toPreserveSourceIp();
    const frag = p.stages.map((s) => s.transform).find((x) => x?.kind === 'fragment');
    if (frag?.kind === 'fragment') expect(run).toFragmentWithin(frag.mtuBytes);
  });
});
