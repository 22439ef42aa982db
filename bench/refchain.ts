/**
 * Capacity of the embedded reference chain, measured the way the nightly job does: NDR and PDR by the
 * MLRsearch-style search (src/benchmark/search.ts) over a ChainSession, the probes counted by the harness
 * at the delivered capture point (invalid trials — injector short of the rate, capture drops — are not loss).
 * Short trials (1 s final) keep it to a couple of minutes; `chainprobe ndr` / `npm run nightly` run the
 * full-length version with latency under load. Brings its own chain up and always takes it down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionMeasure } from '../src/benchmark/measure.ts';
import { searchNdrPdr } from '../src/benchmark/search.ts';
import { chainDown, chainUp, defaultProfile } from '../src/drivers/refchain/index.ts';
import { resolveRuntimeKeys } from '../src/run/runtime-keys.ts';
import { ChainSession } from '../src/run/session.ts';
import type { BenchFigure } from './figure.ts';

const SIZES = [100, 8000];
const FINAL_TRIAL_S = 1;
const MAX_LOAD_PPS: Record<number, number> = { 100: 60_000, 8000: 10_000 };

export default async function refchainBench(): Promise<BenchFigure[]> {
  const profile = defaultProfile();
  const dir = mkdtempSync(join(tmpdir(), 'chainprobe-bench-refchain-'));
  const figures: BenchFigure[] = [];
  let session: ChainSession | undefined;
  try {
    const up = await chainUp({ profile });
    figures.push({
      group: 'refchain',
      name: 'chain up (namespaces + IKE + end-to-end probe)',
      unit: 'ms',
      value: up.timingsMs.total,
    });
    session = await ChainSession.open({
      profile,
      runtimeKeys: await resolveRuntimeKeys(profile, []),
      workDir: dir,
    });
    for (const size of SIZES) {
      const t0 = Date.now();
      const r = await searchNdrPdr(sessionMeasure(session, [size]), {
        goals: [
          { name: 'ndr', lossRatio: 0 },
          { name: 'pdr', lossRatio: 0.005 },
        ],
        minLoadPps: 100,
        maxLoadPps: MAX_LOAD_PPS[size],
        finalTrialDurationS: FINAL_TRIAL_S,
        initialTrialDurationS: 0.5,
        width: 0.1,
      });
      const notes = `${r.trials.length} trials (${r.trials.filter((t) => !t.valid).length} invalid) in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${FINAL_TRIAL_S} s final trials; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`;
      for (const g of r.goals)
        figures.push({
          group: 'refchain',
          name: `${g.name.toUpperCase()}, ${size} B payload (loss ${g.lossRatio === 0 ? '0' : `<= ${g.lossRatio * 100} %`})`,
          unit: 'pps',
          value: g.pps ?? 0,
          notes: `bounds [${g.lowerPps ?? '—'}, ${g.upperPps ?? '—'}]${g.note ? `, ${g.note}` : ''}; ${notes}`,
        });
    }
    await session.close();
    session = undefined;
    const down = await chainDown({ profile });
    figures.push({ group: 'refchain', name: 'chain down', unit: 'ms', value: down.tookMs });
    return figures;
  } finally {
    await session?.close();
    await chainDown({ profile }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
