import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendHistory, historyRecordFromNdr } from '../../benchmark/history.ts';
import { runNdrBenchmark } from '../../benchmark/ndr.ts';
import { loadProfile } from '../../chain/profile.ts';
import { writeNdrHtml } from '../../report/ndr-html.ts';
import { writeJsonFile } from '../../report/write.ts';
import type { InjectorKind } from '../../run/run.ts';
import { resolveRuntimeKeys } from '../../run/runtime-keys.ts';
import { ChainSession } from '../../run/session.ts';
import { provenance } from '../../version.ts';
import { UsageError } from '../errors.ts';
import {
  choiceOption,
  intOption,
  numberOption,
  type ParsedValues,
  parseSaKeys,
  runCommand,
  writableDir,
  writableFile,
} from '../options.ts';

const INJECTORS: readonly InjectorKind[] = ['l2', 'raw', 'tcpreplay'];

const OPTIONS = {
  profile: { type: 'string' },
  size: { type: 'string', default: '100,1400,8000' },
  loss: { type: 'string', default: '0,0.005' },
  'final-trial': { type: 'string', default: '10s' },
  'initial-trial': { type: 'string', default: '1s' },
  'latency-trial': { type: 'string' },
  'max-rate': { type: 'string', default: '100000' },
  'min-rate': { type: 'string', default: '10' },
  width: { type: 'string', default: '0.05' },
  'exceed-ratio': { type: 'string', default: '0.5' },
  inject: { type: 'string', default: 'l2' },
  json: { type: 'string' },
  report: { type: 'string' },
  history: { type: 'string' },
  commit: { type: 'string' },
  'sa-key': { type: 'string', multiple: true, default: [] as string[] },
} as const;

const HELP = `usage: chainprobe ndr --profile FILE [options]

  --profile FILE        chain profile (JSON); fixtures/reference.json is the embedded reference chain
  --size B[,B...]       inner UDP payload sizes, one search each (default 100,1400,8000)
  --loss NDR,PDR        loss ratios of the two goals (default 0,0.005)
  --final-trial D       final trial duration, e.g. 10s, 2.5s, 500ms (default 10s)
  --initial-trial D     intermediate (short) trial duration (default 1s)
  --latency-trial D     duration of each latency-under-load trial (default: the final trial's)
  --max-rate PPS        Max Load (default 100000); lowered automatically to what the injector sustains
  --min-rate PPS        Min Load (default 10)
  --width R             goal width, relative (default 0.05)
  --exceed-ratio R      share of trial time allowed to be high-loss at a Lower Bound (default 0.5)
  --inject KIND         l2 (default), raw or tcpreplay
  --json FILE           write the results document here
  --report DIR          write DIR/index.html and DIR/ndr.json
  --history FILE        append a trend record (JSON lines) for \`chainprobe trend\`
  --commit SHA          commit recorded in the history (default: $GITHUB_SHA, else git rev-parse HEAD)
  --sa-key SPI=HEX      ESP key+salt for runtime-keyed SAs (default: read from the running reference chain)`;

export function run(args: string[]): Promise<number> {
  return runCommand(args, { usage: HELP, options: OPTIONS }, ndr);
}

async function ndr(v: ParsedValues<typeof OPTIONS>): Promise<number> {
  if (!v.profile) throw new UsageError('--profile is required');
  const injector = choiceOption('--inject', v.inject, INJECTORS);
  const sizes = v.size.split(',').map((s) => intOption('--size', s, 32, 65_507));
  const loss = v.loss.split(',').map((s) => numberOption('--loss', s, 0, 0.5));
  if (loss.length !== 2 || loss[0] > loss[1])
    throw new UsageError(
      `--loss takes two loss ratios NDR,PDR with NDR <= PDR (e.g. 0,0.005), not "${v.loss}"`,
    );
  const finalTrialS = durationOption('--final-trial', v['final-trial']);
  const initialTrialS = durationOption('--initial-trial', v['initial-trial']);
  if (initialTrialS > finalTrialS)
    throw new UsageError('--initial-trial must not be longer than --final-trial');
  const latencyTrialS = v['latency-trial']
    ? durationOption('--latency-trial', v['latency-trial'])
    : finalTrialS;
  const maxLoadPps = intOption('--max-rate', v['max-rate'], 1, 100_000_000);
  const minLoadPps = intOption('--min-rate', v['min-rate'], 1, 100_000_000);
  if (minLoadPps > maxLoadPps) throw new UsageError('--min-rate must not exceed --max-rate');
  const width = numberOption('--width', v.width, 0.001, 0.5);
  const exceedRatio = numberOption('--exceed-ratio', v['exceed-ratio'], 0, 0.99);
  // the outputs are written after a search of many minutes: prove them writable before it starts
  if (v.report) writableDir('--report', v.report);
  if (v.json) writableFile('--json', v.json);
  if (v.history) writableFile('--history', v.history);
  const profile = loadProfile(v.profile);
  const runtimeKeys = await resolveRuntimeKeys(profile, parseSaKeys(v['sa-key']));

  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ninterrupted: stopping the trial and cleaning up…\n');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  const workDir = join(tmpdir(), `chainprobe-ndr-${process.pid}`);
  const session = await ChainSession.open({
    profile,
    injector,
    runtimeKeys,
    workDir,
    signal: controller.signal,
  });
  try {
    const doc = await runNdrBenchmark(session, {
      profile,
      injector,
      sizes,
      lossRatios: [loss[0], loss[1]],
      search: {
        minLoadPps,
        maxLoadPps,
        finalTrialDurationS: finalTrialS,
        initialTrialDurationS: initialTrialS,
        width,
        exceedRatio,
      },
      latencyTrialS,
      version: provenance().version,
      log: (l) => console.error(l),
    });
    const outputs: string[] = [];
    if (v.report) {
      outputs.push(writeNdrHtml(doc, v.report));
      outputs.push(writeJsonFile(join(v.report, 'ndr.json'), doc));
    }
    if (v.json) outputs.push(writeJsonFile(v.json, doc));
    if (v.history) {
      appendHistory(v.history, historyRecordFromNdr(doc, { commit: v.commit }));
      outputs.push(`${v.history} (appended)`);
    }
    for (const z of doc.sizes)
      console.log(
        `${z.payloadBytes} B: NDR ${z.ndr.pps ?? 'none'} pps [${z.ndr.lowerPps ?? '—'}, ${z.ndr.upperPps ?? '—'}]  PDR ${z.pdr.pps ?? 'none'} pps [${z.pdr.lowerPps ?? '—'}, ${z.pdr.upperPps ?? '—'}]  (${z.trials.length} trials, ${z.tookS.toFixed(0)} s)`,
      );
    if (outputs.length) console.log(`wrote ${outputs.join(', ')}`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await session.close();
  }
}

/** "10s", "2.5s", "500ms" or a bare number of seconds → seconds. */
export function durationOption(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${name} must be a duration like 10s, 2.5s or 500ms, not "${raw}"`);
  const s = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
  if (s < 0.1 || s > 3600) throw new UsageError(`${name} must be between 100ms and 3600s, not ${raw}`);
  return s;
}
