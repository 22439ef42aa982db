import { readHistory } from '../../benchmark/history.ts';
import { analyzeTrend, DEFAULT_TREND_SETTINGS } from '../../benchmark/trend.ts';
import { writeTrendHtml } from '../../report/trend-html.ts';
import { writeJsonFile } from '../../report/write.ts';
import { UsageError } from '../errors.ts';
import { numberOption, type ParsedValues, runCommand } from '../options.ts';

const HELP = `usage: chainprobe trend HISTORY [options]

  HISTORY           the history file (JSON lines) that \`chainprobe ndr --history\` appends to
  --report DIR      write DIR/index.html: one chart per metric, groups and anomalies marked
  --json FILE       write the analysis (groups per metric) as JSON
  --min-change R    smallest relative change of a group's average that counts as an anomaly (default ${DEFAULT_TREND_SETTINGS.minRelativeChange})

Exit code 1 when the latest run is in a regression group of any metric.`;

const OPTIONS = {
  report: { type: 'string' },
  json: { type: 'string' },
  'min-change': { type: 'string' },
} as const;

export function run(args: string[]): Promise<number> {
  return runCommand(args, { usage: HELP, options: OPTIONS, positionals: true }, trend);
}

async function trend(v: ParsedValues<typeof OPTIONS>, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('give exactly one HISTORY file');
  const records = readHistory(positionals[0]);
  if (records.length === 0) throw new UsageError(`${positionals[0]} holds no runs`);
  const settings = {
    ...DEFAULT_TREND_SETTINGS,
    ...(v['min-change'] ? { minRelativeChange: numberOption('--min-change', v['min-change'], 0, 10) } : {}),
  };
  const t = analyzeTrend(records, settings);
  if (v.report) console.log(`wrote ${writeTrendHtml(t, v.report)}`);
  if (v.json) writeJsonFile(v.json, t);
  console.log(
    `${records.length} runs, ${t.metrics.length} metrics (jumpavg; anomaly when a group's average moves ≥ ${(settings.minRelativeChange * 100).toFixed(0)} %)`,
  );
  for (const m of t.regressions) {
    const g = m.groups.at(-1)!;
    const prev = m.groups.at(-2)!;
    console.log(
      `REGRESSION ${m.key}: ${m.label} ${fmt(prev.avg)} → ${fmt(g.avg)} ${m.unit} (${((g.change ?? 0) * 100).toFixed(1)} %) since run ${m.points[g.start].run}`,
    );
  }
  for (const m of t.warnings) {
    const g = m.groups.at(-1)!;
    console.log(
      `note (informational, does not fail) ${m.key}: ${fmt(m.groups.at(-2)!.avg)} → ${fmt(g.avg)} ${m.unit} (${((g.change ?? 0) * 100).toFixed(1)} %)`,
    );
  }
  if (t.regressions.length === 0) console.log('no regression at the latest run');
  return t.regressions.length ? 1 : 0;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
