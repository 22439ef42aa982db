/**
 * The trend page (`chainprobe trend HISTORY --report DIR`): one self-contained HTML file, no script. One
 * chart per metric over the runs: the runs' values, each jumpavg group's average as a line (red for a
 * regression group, green for a progression), dashed markers where an anomaly group starts. The detection
 * thresholds are printed at the top, so a reader knows what "regression" meant for this page.
 */
import type { MetricTrend, TrendAnalysis } from '../benchmark/trend.ts';
import { formatPercent } from './format.ts';
import { html, type Markup } from './markup.ts';
import { staticPage, writePage } from './static-page.ts';
import { shortNumber, svgChart } from './svg-chart.ts';

const COLORS = { regression: '#cf222e', progression: '#1a7f37', normal: '#0969da' };

export function renderTrendHtml(t: TrendAnalysis, o: { title?: string } = {}): string {
  const title = o.title ?? 'chainprobe benchmark trends';
  const regressed = t.regressions.length > 0;
  const body = html`<h1>${title} <span class="muted">· ${t.runs.length} runs · ${t.runs[0]?.date ?? ''} … ${t.runs.at(-1)?.date ?? ''}</span></h1>
<div class="verdict ${regressed ? 'fail' : 'pass'}" id="verdict"><div class="verdict-badge">${regressed ? 'REGRESSION' : 'OK'}</div><div>
<p class="headline">${
    regressed
      ? `${t.regressions.length} metric${t.regressions.length > 1 ? 's' : ''} regressed in the latest run`
      : 'no metric is in a regression group at the latest run'
  }</p>
${regressed ? html`<ul>${t.regressions.map((m) => html`<li>${m.label}: ${changeText(m)}</li>`)}</ul>` : ''}
</div></div>
<h2 id="thresholds">Detection</h2>
<p>Runs are grouped per metric by <b>jumpavg</b> (FD.io CSIT's trending: the partition into constant-average groups
with the smallest description length in bits). Thresholds: jumpavg unit = ${formatPercent(t.settings.unitShare)} of the
series' maximum; a group whose average moved less than <b>${formatPercent(t.settings.minRelativeChange)}</b> from the previous
group's is not an anomaly. A <b>regression</b> is a drop of a rate or a rise of a latency; the page (and the exit code)
flags a metric when its latest run is in a regression group. Rates (NDR, PDR) and soak results fail the job; latency under
load is informational (it is measured at a share of each night's PDR and its tail moves with the machine's other work).</p>
${t.metrics.map(metricSection)}
<h2 id="runs">Runs</h2>
<table><tr><th>#</th><th>date</th><th>commit</th><th>machine</th></tr>
${t.runs.map((r, i) => html`<tr><td>${i}</td><td>${r.date}</td><td class="mono">${r.commit?.slice(0, 12) ?? '—'}</td><td>${r.machine}</td></tr>`)}
</table>`;
  return staticPage({ title, body, data: { id: 'trend-json', value: t } });
}

export function writeTrendHtml(t: TrendAnalysis, dir: string): string {
  return writePage(dir, renderTrendHtml(t));
}

function changeText(m: MetricTrend): string {
  const g = m.groups.at(-1)!;
  const prev = m.groups.at(-2);
  return `${shortNumber(prev?.avg ?? g.avg)} → ${shortNumber(g.avg)} ${m.unit} (${g.change === null ? '' : `${(g.change * 100).toFixed(1)} %`}) since run ${m.points[g.start].run}`;
}

function metricSection(m: MetricTrend): Markup {
  const chart = svgChart({
    label: m.label,
    xLabel: 'run',
    yLabel: m.unit,
    connect: true,
    points: m.points.map((p) => ({
      x: p.run,
      y: p.value,
      title: `run ${p.run} (${p.commit?.slice(0, 12) ?? 'no commit'}, ${p.date}): ${shortNumber(p.value)} ${m.unit}`,
    })),
    segments: m.groups.map((g) => ({
      // half a run either side, so a group of one run still shows its line
      x1: m.points[g.start].run - 0.4,
      x2: m.points[g.end].run + 0.4,
      y: g.avg,
      color: COLORS[g.anomaly ?? 'normal'],
      title: `group runs ${m.points[g.start].run}–${m.points[g.end].run}: average ${shortNumber(g.avg)} ${m.unit}, stdev ${shortNumber(g.stdev)}${g.anomaly ? ` (${g.anomaly})` : ''}`,
    })),
    markers: m.groups
      .filter((g) => g.anomaly)
      .map((g) => ({
        x: m.points[g.start].run,
        color: COLORS[g.anomaly!],
        title: `${g.anomaly} from run ${m.points[g.start].run}: ${g.change === null ? '' : `${(g.change * 100).toFixed(1)} %`}`,
      })),
    xTicks: m.points.map((p) => ({ x: p.run, label: String(p.run) })),
  });
  return html`<h2 id="${m.key}" class="${m.regression ? 'regression' : ''}">${m.label}${m.regression ? html` <span class="badge fail">${m.gating ? 'regression' : 'regression (informational)'}</span>` : ''}</h2>
${chart}
<p class="muted">${m.groups.length} group${m.groups.length > 1 ? 's' : ''}: ${m.groups
    .map(
      (g) =>
        `runs ${m.points[g.start].run}–${m.points[g.end].run} avg ${shortNumber(g.avg)} ${m.unit}${g.anomaly ? ` (${g.anomaly}, ${((g.change ?? 0) * 100).toFixed(1)} %)` : ''}`,
    )
    .join('; ')}</p>`;
}
