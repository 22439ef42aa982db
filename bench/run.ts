/**
 * `npm run bench [-- AREA ...]`: runs the benchmark modules (bench/<area>.ts) one after another, prints a
 * table of figures with their same-run peers and ratios, and writes reports/bench.json + reports/bench.md.
 * Areas: codec, esp, pcap, inject, refchain (the last two need root and create namespaces).
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TREND_SETTINGS, trendGroups } from '../src/benchmark/trend.ts';
import type { BenchFigure, BenchModule } from './figure.ts';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['figure.ts', 'run.ts'].includes(f) && !f.endsWith('.d.ts'))
  .map((f) => f.replace(/\.ts$/, ''));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const areas = wanted.length ? wanted : all;
for (const a of areas) if (!all.includes(a)) throw new Error(`no benchmark "${a}" (have: ${all.join(', ')})`);

const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
const figures: BenchFigure[] = [];
for (const area of areas) {
  console.log(`\n== ${area}`);
  const mod = (await import(`./${area}.ts`)) as { default: BenchModule };
  const t0 = Date.now();
  try {
    const got = await mod.default();
    figures.push(...got);
    for (const f of got) {
      const peer = f.peer
        ? `  vs ${f.peer.name} ${fmt(f.peer.value)} → ${f.ratio ? `${fmt(f.ratio)}×` : '-'}`
        : '';
      const target = f.target
        ? `  [target ${f.target}: ${f.pass === undefined ? 'n/a' : f.pass ? 'met' : 'NOT met'}]`
        : '';
      console.log(`  ${f.name}: ${fmt(f.value)} ${f.unit}${peer}${target}${f.notes ? `  (${f.notes})` : ''}`);
    }
  } catch (e) {
    console.error(`  ${area} failed: ${(e as Error).message}`);
    figures.push({
      group: area,
      name: 'benchmark failed',
      unit: '',
      value: 0,
      notes: (e as Error).message,
      pass: false,
    });
  }
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

const out = join(here, '..', 'reports');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'bench.json'), JSON.stringify({ at: new Date().toISOString(), figures }, null, 2));
reportTrend(join(out, 'bench-history.jsonl'), figures);
const md = [
  '| area | figure | value | peer (same run) | ratio | target |',
  '|---|---|---|---|---|---|',
  ...figures.map(
    (f) =>
      `| ${f.group} | ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.peer ? `${f.peer.name}: ${fmt(f.peer.value)}` : '-'} | ${f.ratio ? `${fmt(f.ratio)}×` : '-'} | ${f.target ? `${f.target} ${f.pass === undefined ? '' : f.pass ? '✔' : '✘'}` : '-'} |`,
  ),
].join('\n');
writeFileSync(join(out, 'bench.md'), `${md}\n`);
console.log(`\nwrote reports/bench.json and reports/bench.md`);

/**
 * Trend: every run appends its figures to reports/bench-history.jsonl (keep it as a CI artifact), and each
 * figure's series is grouped by jumpavg (src/benchmark/trend.ts, the same detection as `chainprobe trend`).
 * Ratios are grouped where there is a peer (absolute numbers drift with the machine); a figure whose latest
 * run starts or continues a group that moved is called out.
 */
function reportTrend(path: string, now: BenchFigure[]): void {
  const history = existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { at: string; figures: BenchFigure[] })
    : [];
  const lines: string[] = [];
  for (const f of now) {
    const past = history.flatMap((h) => h.figures.filter((g) => g.group === f.group && g.name === f.name));
    if (past.length === 0) continue;
    const byRatio = f.ratio !== undefined && past.every((p) => p.ratio !== undefined);
    const series = [...past, f].map((g) => (byRatio ? g.ratio! : g.value));
    const groups = trendGroups(
      series,
      f.unit === 'ms' && !byRatio ? 'lower' : 'higher',
      DEFAULT_TREND_SETTINGS,
    );
    const last = groups[groups.length - 1];
    if (!last.anomaly || last.change === null) continue;
    const before = groups[groups.length - 2].avg;
    lines.push(
      `  ${last.change > 0 ? '▲' : '▼'} ${f.group} / ${f.name}: ${byRatio ? 'ratio' : f.unit} ${fmt(before)} → ${fmt(last.avg)} (${(last.change * 100).toFixed(0)} %, ${last.anomaly})`,
    );
  }
  appendFileSync(path, `${JSON.stringify({ at: new Date().toISOString(), figures: now })}\n`);
  console.log(
    history.length
      ? lines.length
        ? `\nfigures whose latest runs form a group that moved (jumpavg):\n${lines.join('\n')}`
        : '\nno figure moved (jumpavg grouping over the bench history)'
      : '',
  );
}
