/**
 * One self-contained HTML report per run: opens offline from a CI artifact (Chart.js, CSS, script and
 * the results JSON are all inlined; nothing is fetched). Order follows what a reader asks: did it pass,
 * where did probes vanish, how slow, since when, what was wrong with the packets, how was it measured.
 * Tables are plain HTML (readable without JS); only the charts need the inline script.
 * Flow-export runs (`run.requested.traffic`) send datagrams, not probes: the report says so, and adds what
 * the collectors at the destination made of them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { jsonForScript, redactSecrets } from './escape.ts';
import {
  checkResultText,
  formatBytes,
  formatDuration,
  formatInt,
  formatPercent,
  formatUs,
  type Unit,
  unitOf,
} from './format.ts';
import { CHART_SCRIPT } from './html-charts.ts';
import { REPORT_CSS } from './html-style.ts';
import { html, type Markup, raw } from './markup.ts';
import {
  type CheckStatus,
  COLLECTOR_CHECK,
  type LatencySummary,
  type RunResults,
  type ViolationExample,
  type ViolationSummary,
} from './results.ts';

/** Examples rendered per violation kind; the rest stay in the embedded JSON. */
const MAX_EXAMPLES = 20;

/** CSS class of a check's result: a check with nothing to judge is never styled as passing. */
const STATUS_CLASS: Record<CheckStatus, string> = { pass: 'ok', fail: 'bad', 'not-evaluated': 'na' };

/** Table of contents, in page order; the collector entry only where that section is rendered. */
function toc(r: RunResults): Markup {
  const entries: [string, string][] = [
    ['verdict', 'Verdict'],
    ['funnel', 'Hop funnel'],
    ...(r.collector ? [['collector', 'Collector'] as [string, string]] : []),
    ['latency', 'Latency'],
    ['by-size', 'Per payload size'],
    ['timeline', 'Delivery over time'],
    ['violations', 'Violations'],
    ['metadata', 'Run metadata'],
  ];
  return html`<nav class="toc">${entries.map(([id, text]) => html`<a href="#${id}">${text}</a>`)}</nav>`;
}

let chartJsSource: string | undefined;

/** Chart.js UMD build, read once. Resolved through the package (works however node_modules is laid out). */
function chartJs(): string {
  if (chartJsSource === undefined) {
    const main = createRequire(import.meta.url).resolve('chart.js'); // …/chart.js/dist/chart.cjs
    const src = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
    // No source-map fetch from an offline artifact, and nothing that could close the <script> early.
    chartJsSource = src.replace(/^\/\/# sourceMappingURL=.*$/gm, '').replace(/<\/(script)/gi, '<\\/$1');
  }
  return chartJsSource;
}

export function renderHtml(results: RunResults): string {
  const r = results;
  const title = `chainprobe ${r.verdict === 'pass' ? 'PASS' : 'FAIL'} · run ${r.run.id} · ${r.run.profile}`;
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${raw(REPORT_CSS)}</style>
<noscript><style>.chart { height: auto; } .legend { display: none; }</style></noscript>
</head>
<body>
<main>
<h1>chainprobe run ${r.run.id} <span class="muted">· profile ${r.run.profile} · ${r.run.startedAt}</span></h1>
${toc(r)}
${verdictSection(r)}
${funnelSection(r)}
${collectorSection(r)}
${findingsSection(r)}
${latencySection(r)}
${bySizeSection(r)}
${timelineSection(r)}
${violationsSection(r)}
${metadataSection(r)}
<footer>chainprobe ${r.tool.version}${r.tool.commit ? ` (${r.tool.commit.slice(0, 12)})` : ''} · results schema v${r.schemaVersion} · the full results document is embedded in this file (script#results-json).</footer>
</main>
<script type="application/json" id="results-json">${raw(jsonForScript(redactSecrets(r)))}</script>
<script>${raw(chartJs())}</script>
<script>${raw(CHART_SCRIPT)}</script>
</body>
</html>
`;
  return doc.html;
}

/** Writes the report to `dir/fileName` (default index.html), creating `dir`; returns the path. */
export function writeHtmlReport(results: RunResults, dir: string, fileName = 'index.html'): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  writeFileSync(path, renderHtml(results));
  return path;
}

// ── verdict ────────────────────────────────────────────────────────────────────────────────────────

function verdictSection(r: RunResults): Markup {
  const u = unitOf(r);
  const pass = r.verdict === 'pass';
  const failing = r.checks.filter((c) => c.status === 'fail');
  const unjudged = r.checks.filter((c) => c.status === 'not-evaluated');
  const interrupted = r.run.interrupted;
  const iv = r.deliveryInterval;
  const seg = r.faultySegment;
  const hopOf = (point: string) => r.hops.find((h) => h.name === point)?.hop;
  const pointLabel = (point: string) => {
    const hop = hopOf(point);
    return hop ? html`<b>${point}</b> (hop ${hop})` : html`<b>${point}</b>`;
  };
  const flagged = r.captureDrops.filter((d) => d.flagged);
  return html`<section id="verdict" class="verdict ${pass ? 'pass' : 'fail'}" data-testid="verdict" data-verdict="${r.verdict}">
<div class="verdict-badge" data-testid="verdict-text">${pass ? 'PASS' : 'FAIL'}</div>
<div class="verdict-body">
${interrupted ? html`<p class="segment" data-testid="interrupted"><b>Interrupted:</b> ${interrupted.reason}; ${formatInt(interrupted.sentBeforeStop)} ${u.many} had been sent. These results cover what was captured until then.</p>` : ''}
<p class="headline" data-testid="delivery-summary">${formatInt(r.delivered)} of ${formatInt(r.sent)} ${u.many} delivered — ${formatPercent(r.deliveryRatio)}
<span class="muted">(${Math.round(iv.confidence * 100)} % interval ${formatPercent(iv.low)} – ${formatPercent(iv.high)})</span></p>
${
  seg
    ? html`<p class="segment" data-testid="faulty-segment">${u.Many} were lost between ${pointLabel(seg.from)} and ${pointLabel(seg.to)}:
${formatInt(seg.lost)} ${u.many} were last seen at ${seg.from} and never reached ${seg.to}.${r.faultyHop ? html` Faulty hop: <b data-testid="faulty-hop">${r.faultyHop}</b>.` : ''}</p>`
    : r.faultyHop
      ? html`<p class="segment" data-testid="faulty-segment">Faulty hop: <b data-testid="faulty-hop">${r.faultyHop}</b>.</p>`
      : ''
}
${
  failing.length
    ? html`<p>Failing checks (${failing.length} of ${r.checks.length}):</p>
<ul data-testid="failing-checks">${failing.map((c) => html`<li data-check="${c.name}"><b>${c.name}</b> — ${c.detail}</li>`)}</ul>`
    : unjudged.length
      ? html`<p data-testid="all-checks-passed">No check failed: ${r.checks.length - unjudged.length} passed, ${unjudged.length} not evaluated (${unjudged.map((c) => c.name).join(', ')}).</p>`
      : html`<p data-testid="all-checks-passed">All ${r.checks.length} checks passed.</p>`
}
${r.minSampleRuleMet ? '' : html`<p><b>Too few ${u.many}</b> to support the delivery requirement at this confidence: the verdict is not statistically meaningful.</p>`}
</div>
</section>
${
  flagged.length
    ? html`<div class="banner warn" role="alert" data-testid="capture-loss-warning"><b>⚠ Capture loss is not chain loss.</b>
The capture itself dropped packets at ${flagged.map((d, i) => html`${i ? ', ' : ''}<b>${d.capture}</b> (${dropText(d)})`)}.
${u.Many} missing there may have passed the chain unseen: don't count them against a hop. See <a href="#capture-drops">capture drops</a>.</div>`
    : ''
}
<h3>Checks</h3>
<table id="checks-table" data-testid="checks-table">
<thead><tr><th>check</th><th>result</th><th>detail</th></tr></thead>
<tbody>${r.checks.map(
    (c) =>
      html`<tr data-testid="check-row" data-check="${c.name}" data-pass="${String(c.pass)}" data-status="${c.status}"><td>${c.name}</td><td class="${STATUS_CLASS[c.status]} nowrap">${checkResultText(c)}</td><td>${c.detail}</td></tr>`,
  )}</tbody>
</table>`;
}

function dropText(d: RunResults['captureDrops'][number]): string {
  const parts: string[] = [];
  if (d.droppedByKernel) parts.push(`${formatInt(d.droppedByKernel)} dropped by kernel`);
  if (d.droppedByInterface) parts.push(`${formatInt(d.droppedByInterface)} dropped by interface`);
  return parts.join(', ') || 'dropped packets';
}

// ── hop funnel ─────────────────────────────────────────────────────────────────────────────────────

function funnelSection(r: RunResults): Markup {
  const u = unitOf(r);
  const flagged = new Map(r.captureDrops.filter((d) => d.flagged).map((d) => [d.capture, d]));
  const seg = r.faultySegment;
  return html`<h2 id="funnel">Hop funnel</h2>
<p class="muted">Unique ${u.many} seen at each capture point, in chain order. <i>Lost before here</i> counts ${u.many} last seen at the previous point
(at the first point: sent but never captured).</p>
<div class="chart"><canvas id="chart-funnel" data-chart="funnel" data-testid="chart" role="img" aria-label="${u.many} seen per capture point">Chart needs JavaScript; the table below has the numbers.</canvas></div>
${
  seg || flagged.size
    ? html`<p class="legend muted"><span class="swatch" style="background:#0969da"></span>seen
${seg ? html`<span class="swatch" style="background:#cf222e"></span>first point after the loss (${seg.to})` : ''}
${flagged.size ? html`<span class="swatch" style="background:#bf8700"></span>capture dropped packets (gap may be capture loss)` : ''}</p>`
    : ''
}
<table id="funnel-table" data-testid="funnel-table">
<thead><tr><th>#</th><th>capture point</th><th>hop</th><th>stage</th><th class="num">seen</th><th class="num">% of sent</th><th class="num">lost before here</th><th class="num">packets</th><th class="num">foreign</th></tr></thead>
<tbody>
${r.hops.map((h, i) => {
  const drop = flagged.get(h.name);
  const faulty = seg?.to === h.name;
  return html`<tr data-testid="funnel-row" data-point="${h.name}" class="${faulty ? 'faulty' : drop ? 'flagged' : ''}">
<td>${i + 1}</td><td>${h.name}${faulty ? html`<span class="tag fail">lost before here</span>` : ''}${drop ? html`<span class="tag warn">capture dropped ${formatInt((drop.droppedByKernel ?? 0) + (drop.droppedByInterface ?? 0))}</span>` : ''}</td>
<td>${h.hop}</td><td>${h.stage}</td>
<td class="num" data-col="seen">${formatInt(h.seen)}</td>
<td class="num" data-col="seenPercent">${r.sent ? formatPercent(h.seen / r.sent) : '—'}</td>
<td class="num" data-col="lostHere">${formatInt(h.lostHere)}</td>
<td class="num" data-col="packets">${formatInt(h.packets)}</td>
<td class="num" data-col="foreign">${formatInt(h.foreign)}</td></tr>`;
})}
</tbody>
<tfoot><tr><td></td><td colspan="3">sent by the injector → delivered</td><td class="num" data-col="delivered">${formatInt(r.delivered)} / ${formatInt(r.sent)}</td><td class="num">${formatPercent(r.deliveryRatio)}</td><td class="num">${formatInt(r.sent - r.delivered)}</td><td></td><td></td></tr></tfoot>
</table>
<p class="muted">Packets counts every packet of the run at that point (fragments count separately); foreign packets were not this run's ${u.many} and were ignored.
Reordered at the last point: ${formatInt(r.reordered)} · duplicates: ${formatInt(r.duplicates)}.</p>
${countersBlock(r)}`;
}

/** The hops' own counters (read by the chain's driver before and after the run), beside the funnel. */
function countersBlock(r: RunResults): Markup | string {
  const hops = Object.entries(r.counters ?? {});
  if (!hops.length) return packetTraceBlock(r);
  const explained = r.lossExplanations ?? [];
  return html`<h3 id="hop-counters">Hop counters</h3>
${explained.length ? html`<ul data-testid="loss-explanations">${explained.map((e) => html`<li class="${e.counters[0]?.explains === 'all' ? 'bad' : 'na'}">${e.lost} lost between ${e.from} and ${e.to}: ${e.summary}</li>`)}</ul>` : ''}
${packetTraceBlock(r)}
<p class="muted">What each hop counted itself during the run (after − before), to compare with the funnel above.</p>
<div class="grid">${hops.map(
    ([
      hop,
      c,
    ]) => html`<div data-testid="hop-counters" data-hop="${hop}"><h4>${hop} <span class="muted">(${c.source})</span></h4>
<table><thead><tr><th>counter</th><th class="num">before</th><th class="num">after</th><th class="num">delta</th></tr></thead>
<tbody>${c.counters.map(
      (k) =>
        html`<tr data-testid="hop-counter-row"><td class="name">${k.name}</td><td class="num">${formatInt(k.before)}</td><td class="num">${formatInt(k.after)}</td><td class="num">${formatInt(k.delta)}</td></tr>`,
    )}</tbody></table></div>`,
  )}</div>`;
}

/** `--vpp-trace`: what each VPP hop's packet trace says happened to the traced packets. */
function packetTraceBlock(r: RunResults): Markup | string {
  const traces = r.packetTraces ?? [];
  if (!traces.length) return '';
  return html`<h4 id="packet-traces">Packet traces (VPP)</h4>
<ul data-testid="packet-traces">${traces.map(
    (t) =>
      html`<li><b>${t.hop}</b>: ${t.traced} packets traced${t.findings.length ? '' : ', nothing dropped or rewritten'}${t.findings.length ? html`<ul>${t.findings.map((f) => html`<li class="bad">${f.finding} — ${f.packets} packets; path ${f.path}</li>`)}</ul>` : ''}</li>`,
  )}</ul>`;
}

// ── findings ───────────────────────────────────────────────────────────────────────────────────────

function findingsSection(r: RunResults): Markup | string {
  if (!r.findings.length) return '';
  return html`<h2 id="findings">Findings</h2>
<p class="muted">Observed and worth knowing, but not a violation of the chain's contract.</p>
<ul data-testid="findings">${r.findings.map(
    (f) =>
      html`<li data-testid="finding" data-kind="${f.kind}"><b>${f.kind}</b> at ${f.capture} (sent by hop ${f.hop}, ${formatInt(f.count)}×): ${f.detail}</li>`,
  )}</ul>`;
}

// ── latency ────────────────────────────────────────────────────────────────────────────────────────

interface Series {
  key: string;
  label: string;
  s: LatencySummary;
}

function latencySeries(r: RunResults): Series[] {
  // Keys must match html-charts.ts: "e2e", then the perHop index.
  const first = r.hops[0]?.name;
  const last = r.hops[r.hops.length - 1]?.name;
  const e2eLabel = first && last ? `end to end (${first} → ${last})` : 'end to end';
  return [
    { key: 'e2e', label: e2eLabel, s: r.latency.e2e },
    ...r.latency.perHop.map((h, i) => ({
      key: String(i),
      label: `hop ${h.hop} (${h.from} → ${h.to})`,
      s: h.latency,
    })),
  ];
}

function pctCell(ns: number | null): Markup {
  const v = formatUs(ns);
  return v === null
    ? html`<td class="num"><span class="na">too few samples</span></td>`
    : html`<td class="num">${v}</td>`;
}

function latencySection(r: RunResults): Markup {
  const series = latencySeries(r);
  const anyHistogram = series.some((s) => s.s.histogram.length > 0);
  const u = unitOf(r);
  return html`<h2 id="latency">Latency</h2>
<p class="muted">From capture timestamps (${r.latency.clock}). End to end: first capture point a ${u.one} was seen at → delivered. Per hop: between consecutive capture points that both saw the ${u.one}.</p>
<table id="latency-table" data-testid="latency-table">
<thead><tr><th>segment</th><th class="num">samples</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th>note</th></tr></thead>
<tbody>${series.map(
    ({
      key,
      label,
      s,
    }) => html`<tr data-testid="latency-row" data-series="${key}"><td>${key === 'e2e' ? html`<b>${label}</b>` : label}</td><td class="num">${formatInt(s.samples)}</td>
${pctCell(s.p50Ns)}${pctCell(s.p90Ns)}${pctCell(s.p99Ns)}${pctCell(s.p999Ns)}${pctCell(s.maxNs)}<td class="muted">${s.note ?? ''}</td></tr>`,
  )}</tbody>
</table>
${
  anyHistogram
    ? html`<h3>Cumulative distribution</h3>
<div class="chart"><canvas id="chart-latency-cdf" data-chart="cdf" data-testid="chart" role="img" aria-label="latency CDF per segment">Chart needs JavaScript; the percentile table above has the numbers.</canvas></div>
<h3>Histograms</h3>
<div class="grid">${series.map((s) => histogramFigure(s, u))}</div>`
    : html`<p class="na">No latency samples in this run.</p>`
}`;
}

function histogramFigure({ key, label, s }: Series, u: Unit): Markup {
  if (!s.histogram.length) return html`<div><h3>${label}</h3><p class="na">no samples</p></div>`;
  // The canvas's fallback content is the bucket table: what a reader sees with scripting off.
  return html`<div class="chart small"><canvas id="chart-hist-${key}" data-chart="histogram" data-series="${key}" data-testid="chart" role="img" aria-label="latency histogram ${label}">
<table><caption>${label}</caption><thead><tr><th class="num">≤ µs</th><th class="num">${u.many}</th></tr></thead><tbody>${s.histogram.map(
    (b) => html`<tr><td class="num">${formatUs(b.leNs)}</td><td class="num">${formatInt(b.count)}</td></tr>`,
  )}</tbody></table></canvas></div>`;
}

// ── per payload size ───────────────────────────────────────────────────────────────────────────────

function bySizeSection(r: RunResults): Markup {
  if (!r.bySize.length)
    return html`<h2 id="by-size">Per payload size</h2><p class="na">No ${unitOf(r).many} followed.</p>`;
  return html`<h2 id="by-size">Per payload size</h2>
<table id="by-size-table" data-testid="by-size-table">
<thead><tr><th class="num">payload</th><th class="num">sent</th><th class="num">delivered</th><th class="num">delivered %</th><th class="num">e2e p50</th><th class="num">e2e p99</th><th class="num">max</th><th>note</th></tr></thead>
<tbody>${r.bySize.map(
    (b) =>
      html`<tr data-testid="by-size-row" data-size="${b.payloadBytes}"><td class="num">${formatInt(b.payloadBytes)} B</td><td class="num">${formatInt(b.sent)}</td><td class="num">${formatInt(b.delivered)}</td><td class="num">${b.sent ? formatPercent(b.deliveryRatio) : '—'}</td>${pctCell(b.latency.p50Ns)}${pctCell(b.latency.p99Ns)}${pctCell(b.latency.maxNs)}<td class="muted">${b.latency.note ?? ''}</td></tr>`,
  )}</tbody></table>`;
}

// ── delivery over time ─────────────────────────────────────────────────────────────────────────────

function timelineSection(r: RunResults): Markup {
  const u = unitOf(r);
  if (!r.timeline.length)
    return html`<h2 id="timeline">Delivery over time</h2><p class="na">No timeline (no ${u.many} sent).</p>`;
  const withLatency = r.timeline.some((b) => b.latency);
  const per = bucketWidthText(r.timelineBucketNs);
  // across clocks the buckets' latencies follow the run's rule: rounded to the uncertainty, smaller ones withheld
  const clockNs = r.latency.e2e.clockUncertaintyNs;
  return html`<h2 id="timeline">Delivery over time</h2>
<p class="muted">${u.Many} grouped ${per ?? ''}${per ? ' ' : ''}by the time they were first seen; delivered = share of that bucket's ${u.many} that reached the last capture point.${withLatency ? html` Latency: end to end (first capture point → delivered) of each bucket's delivered ${u.many}, p50 and p99 on the right-hand µs axis; a bucket that delivered none has no latency (a gap, not zero).${clockNs ? ` Across clocks (± ${formatDuration(clockNs)}) values are rounded to the clock uncertainty; below it, or with too few samples, they are not reported.` : ''}` : ''}</p>
<div class="chart"><canvas id="chart-timeline" data-chart="timeline" data-testid="chart" role="img" aria-label="delivery ratio${withLatency ? ' and end-to-end latency' : ''} over time">Chart needs JavaScript; open the table below.</canvas></div>
<details><summary>Timeline as a table (${formatInt(r.timeline.length)} buckets${per ? `, ${per}` : ''})</summary>
<table id="timeline-table" data-testid="timeline-table"><caption>Delivery${withLatency ? ' and end-to-end latency' : ''} ${per ?? 'per bucket'}</caption>
<thead><tr><th class="num">bucket start</th><th class="num">sent</th><th class="num">delivered</th><th class="num">delivered %</th>${withLatency ? html`<th class="num">latency samples</th><th class="num">e2e p50</th><th class="num">e2e p99</th><th class="num">max</th>` : ''}</tr></thead>
<tbody>${r.timeline.map(
    (b) =>
      html`<tr data-testid="timeline-row"><td class="num">${formatDuration(b.startNs)}</td><td class="num">${formatInt(b.sent)}</td><td class="num">${formatInt(b.delivered)}</td><td class="num">${b.sent ? formatPercent(b.delivered / b.sent) : '—'}</td>${withLatency ? bucketLatencyCells(b.latency, clockNs) : ''}</tr>`,
  )}</tbody></table></details>`;
}

/**
 * A bucket's latency cells: "–" where it delivered nothing to measure (never 0). A missing value is "too few
 * samples" on one clock; across clocks it may also be below the clock uncertainty, so it is "not reported".
 */
function bucketLatencyCells(
  l: RunResults['timeline'][number]['latency'],
  clockUncertaintyNs: number | undefined,
): Markup {
  if (!l)
    return html`${[0, 1, 2, 3].map(() => html`<td class="num na" title="no latency in this bucket">–</td>`)}`;
  const cell = (ns: number | null) =>
    ns === null && clockUncertaintyNs
      ? html`<td class="num"><span class="na">not reported</span></td>`
      : pctCell(ns);
  return html`<td class="num">${formatInt(l.samples)}</td>${cell(l.p50Ns)}${cell(l.p99Ns)}${cell(l.maxNs)}`;
}

/** "per second" for 1 s buckets, "per 100 ms" …; null when the results do not say (written before it was recorded). */
function bucketWidthText(ns: number | undefined): string | null {
  if (ns === undefined || !(ns > 0)) return null;
  if (ns === 1e9) return 'per second';
  if (ns % 1e9 === 0) return `per ${ns / 1e9} s`;
  if (ns % 1e6 === 0) return `per ${ns / 1e6} ms`;
  return `per ${formatDuration(ns)}`;
}

// ── collector (flow-export runs) ───────────────────────────────────────────────────────────────────

/**
 * What the flow collectors at the destination decoded, beside the chain's own delivery count. Without a
 * collector view the check is "not evaluated" here whatever a hand-edited document claims.
 */
function collectorSection(r: RunResults): Markup | string {
  const c = r.collector;
  if (!c) return '';
  const check = r.checks.find((k) => k.name === COLLECTOR_CHECK);
  const status: CheckStatus = c.ran ? (check?.status ?? 'not-evaluated') : 'not-evaluated';
  const detail = check?.detail ?? `not evaluated: ${c.note ?? 'no collector check in these results'}`;
  return html`<h2 id="collector">Collector</h2>
<p class="muted">What the flow collectors at the destination decoded from the ${formatInt(r.delivered)} datagrams the chain delivered.
Socket drops are datagrams the chain delivered and the collector's socket then dropped: collector loss, not chain loss.</p>
<p data-testid="collector-check" data-status="${status}"><b>${COLLECTOR_CHECK}</b>: <span class="${STATUS_CLASS[status]} nowrap">${checkResultText({ status })}</span> — ${detail}</p>
${
  c.ran
    ? html`<table id="collector-table" data-testid="collector-table">
<thead><tr><th>collector</th><th>listen</th><th class="num">flows decoded</th><th class="num">packets</th><th class="num">bytes</th><th class="num">sequence failures</th><th class="num">socket drops</th><th class="num">bad packets</th><th>exporters seen</th></tr></thead>
<tbody>${c.views.map(
        (
          v,
        ) => html`<tr data-testid="collector-row" data-collector="${v.collector}" class="${v.socketDrops || v.badPackets ? 'flagged' : ''}">
<td>${v.collector}</td><td class="mono">${v.listen}</td>
<td class="num" data-col="flows">${formatInt(v.flows)}</td>
<td class="num" data-col="packets">${formatInt(v.packets)}</td>
<td class="num" data-col="bytes">${formatInt(v.bytes)}</td>
<td class="num" data-col="sequenceFailures">${v.sequenceFailures === null ? html`<span class="na">not checked by ${v.collector}</span>` : formatInt(v.sequenceFailures)}</td>
<td class="num${v.socketDrops ? ' bad' : ''}" data-col="socketDrops">${v.socketDrops === null ? html`<span class="na">unknown</span>` : formatInt(v.socketDrops)}</td>
<td class="num${v.badPackets ? ' bad' : ''}" data-col="badPackets">${formatInt(v.badPackets)}</td>
<td data-col="exporters">${formatInt(v.exporters.length)}${v.exporters.length ? html` <details><summary>which</summary><span class="muted mono">${v.exporters.map((e) => `${e.ip} id ${e.id}`).join(', ')}</span></details>` : ''}</td></tr>`,
      )}</tbody></table>
${c.exportersMissing.length ? html`<p class="bad" data-testid="exporters-missing">⚠ ${formatInt(c.exportersMissing.length)} exporters reached no collector under their own address: ${c.exportersMissing.join(', ')} (source rewritten on the way, or all their datagrams lost).</p>` : ''}`
    : html`<p class="na" data-testid="collector-note">No collector view: ${c.note ?? 'reason not recorded'}.</p>`
}`;
}

// ── violations ─────────────────────────────────────────────────────────────────────────────────────

function violationsSection(r: RunResults): Markup {
  const u = unitOf(r);
  const f = r.fragmentation;
  const e = r.esp;
  const kinds: { id: string; title: string; v: ViolationSummary; extra: Markup | string }[] = [
    { id: 'sourceIp', title: 'Source IP preserved', v: r.sourceIp, extra: '' },
    { id: 'nat', title: 'NAT rewrite', v: r.nat, extra: '' },
    {
      id: 'fragmentation',
      title: 'Fragmentation',
      v: f,
      extra: html`${formatInt(f.reassembled)} datagrams reassembled; largest fragment ${f.maxFragmentBytes ?? '—'} B; MTU ${f.mtuBytes ?? '—'} B`,
    },
    {
      id: 'esp',
      title: 'ESP',
      v: e,
      extra: html`SPIs ${e.spis.length ? e.spis.map((s) => `0x${s.toString(16)} (${s})`).join(', ') : 'none seen'}; ${formatInt(e.undecryptable)} undecryptable; ${formatInt(e.sequenceRegressions)} replayed or behind the anti-replay window; ${formatInt(e.sequenceReorders ?? 0)} reordered within it (accepted)`,
    },
  ];
  return html`<h2 id="violations">Violations</h2>
<table id="violations-table" data-testid="violations-table">
<thead><tr><th>property</th><th class="num">${u.many} checked</th><th class="num">violations</th><th>details</th></tr></thead>
<tbody>${kinds.map(
    (k) =>
      html`<tr data-testid="violation-row" data-kind="${k.id}"><td>${k.title}</td><td class="num">${formatInt(k.v.checked)}</td><td class="num ${k.v.violations ? 'bad' : 'ok'}">${formatInt(k.v.violations)}</td><td>${k.extra}</td></tr>`,
  )}</tbody>
</table>
${kinds.filter((k) => k.v.examples.length).map((k) => examplesBlock(k.id, k.title, k.v, u))}`;
}

function examplesBlock(id: string, title: string, v: ViolationSummary, u: Unit): Markup {
  const shown = v.examples.slice(0, MAX_EXAMPLES);
  const more = v.violations - shown.length;
  return html`<h3 id="violations-${id}">${title}: first ${shown.length === 1 ? 'example' : `${shown.length} examples`}${more > 0 ? html` <span class="muted">(of ${formatInt(v.violations)} ${u.many})</span>` : ''}</h3>
${shown.map((ex) => exampleArticle(id, ex, u))}`;
}

function exampleArticle(kind: string, ex: ViolationExample, u: Unit): Markup {
  const probe =
    ex.probe.flowId < 0
      ? `packet not tied to a ${u.one}`
      : `${u.one} flow ${ex.probe.flowId} seq ${ex.probe.seq}`;
  return html`<article class="example" data-testid="violation-example" data-kind="${kind}">
<header><b>${probe}</b> at capture point <b>${ex.capture}</b>${ex.timestampNs !== undefined ? html` · ${timestampText(ex.timestampNs, u)}` : ''}</header>
<p class="reason">${ex.reason}</p>
<pre class="layers">${ex.layers.map((l) => html`<span class="layer">${l}</span>`)}</pre>
</article>`;
}

/** Example timestamps may be relative to the first probe or absolute capture time (epoch ns); say which. */
function timestampText(ns: number, u: Unit): string {
  if (ns > 1e15) return new Date(ns / 1e6).toISOString();
  return `t+${formatDuration(ns)} after the first ${u.one}`;
}

// ── run metadata ───────────────────────────────────────────────────────────────────────────────────

function metadataSection(r: RunResults): Markup {
  const u = unitOf(r);
  const run = r.run;
  const req = run.requested ?? {};
  const ach = run.achieved;
  const actualS = run.durationNs / 1e9;
  const rateRows: [string, string, string][] = [
    [u.many, req.count !== undefined ? formatInt(req.count) : '—', `${formatInt(r.sent)} sent`],
    [
      'rate',
      req.pps !== undefined ? `${formatInt(req.pps)} pps` : '—',
      ach?.pps != null ? `${ach.pps.toLocaleString('en-US', { maximumFractionDigits: 1 })} pps` : '—',
    ],
    [
      'throughput',
      '—',
      ach?.mbps != null ? `${ach.mbps.toLocaleString('en-US', { maximumFractionDigits: 2 })} Mbit/s` : '—',
    ],
    [
      'payload',
      req.payloadBytes?.length ? req.payloadBytes.map((b) => `${formatInt(b)} B`).join(', ') : '—',
      r.bySize.length
        ? r.bySize.map((b) => `${formatInt(b.sent)} × ${formatInt(b.payloadBytes)} B`).join(', ')
        : '—',
    ],
    ['duration', req.durationS !== undefined ? `${req.durationS} s` : '—', `${actualS.toFixed(3)} s`],
  ];
  const anyFlagged = r.captureDrops.some((d) => d.flagged);
  const artifacts = Object.entries(r.artifacts ?? {}).filter(([, v]) => typeof v === 'string');
  const kept = r.artifacts?.captures;
  const counted = r.captureDrops.some((d) => d.receivedByFilter !== null || d.droppedByKernel !== null);
  return html`<h2 id="metadata">Run metadata</h2>
<dl class="meta" data-testid="run-metadata">
<dt>run</dt><dd>${run.id} (${run.mode}), started ${run.startedAt}${run.interrupted ? html` · <b>interrupted</b>` : ''}</dd>
${run.identity ? html`<dt>identity</dt><dd data-testid="run-identity">run id ${run.identity.runId}, flow ${run.identity.flowId}, IPv4 IDs from ${run.identity.ipIdBase}</dd>` : ''}
<dt>profile</dt><dd>${run.profile}</dd>
${req.traffic ? html`<dt>traffic</dt><dd data-testid="traffic">${req.traffic.replay ? html`replay of ${req.traffic.replay.file} (${formatInt(req.traffic.replay.payloads)} UDP payloads)` : html`flow export: mix ${req.traffic.mix}`}${req.traffic.exporters !== undefined ? html`, ${formatInt(req.traffic.exporters)} exporters per ${req.traffic.replay ? 'port' : 'kind'}` : ''}</dd>` : ''}
<dt>injector</dt><dd>${run.injector ?? '—'}</dd>
<dt>clock</dt><dd>${run.clock}</dd>
<dt>chainprobe</dt><dd data-testid="tool-version">${r.tool.version}${r.tool.commit ? html` · commit <span class="mono">${r.tool.commit}</span>` : ' · commit unknown'}</dd>
${run.commandLine ? html`<dt>command</dt><dd class="mono" data-testid="command-line">${run.commandLine.join(' ')}</dd>` : ''}
<dt>faults on the chain</dt><dd data-testid="faults">${
    run.faults === undefined
      ? 'not recorded'
      : run.faults.length
        ? run.faults.map((f, i) => html`${i ? '; ' : ''}<b>${f.hop}</b>: ${f.kind} ${f.detail}`)
        : 'none'
  }</dd>
${kept ? html`<dt>captures kept</dt><dd data-testid="captures-kept">${kept.policy}: ${formatInt(kept.files.length)} files, ${formatInt(kept.bytes)} bytes</dd>` : ''}
${artifacts.length ? html`<dt>artifacts</dt><dd class="mono">${artifacts.map(([k, v], i) => html`${i ? ' · ' : ''}${k}: ${v}`)}</dd>` : ''}
</dl>
${resourcesBlock(r)}
<h3>Rates: requested vs achieved</h3>
<table id="rates-table" data-testid="rates-table"><thead><tr><th></th><th class="num">requested</th><th class="num">achieved</th></tr></thead>
<tbody>${rateRows.map(([k, a, b]) => html`<tr><td>${k}</td><td class="num">${a}</td><td class="num">${b}</td></tr>`)}</tbody></table>
${ach ? html`<p class="muted">Achieved rate measured from: ${ach.source}.</p>` : ''}
<h3 id="capture-drops">Capture drops</h3>
${anyFlagged ? html`<p class="bad">Flagged captures dropped packets: ${u.many} missing at those points are capture loss, not chain loss.</p>` : counted ? html`<p class="ok">No capture dropped packets.</p>` : html`<p class="na">No capture reported drop counters (captures taken elsewhere): capture loss cannot be ruled out.</p>`}
<table id="capture-drops-table" data-testid="capture-drops-table"><thead><tr><th>capture point</th><th class="num">received by filter</th><th class="num">dropped by kernel</th><th class="num">dropped by interface</th><th>status</th></tr></thead>
<tbody>${r.captureDrops.map(
    (d) =>
      html`<tr data-testid="capture-drop-row" data-capture="${d.capture}" class="${d.flagged ? 'flagged' : ''}"><td>${d.capture}</td><td class="num">${formatInt(d.receivedByFilter)}</td><td class="num">${formatInt(d.droppedByKernel)}</td><td class="num">${formatInt(d.droppedByInterface)}</td><td>${d.flagged ? html`<span class="bad">⚠ dropped</span>` : d.receivedByFilter === null && d.droppedByKernel === null ? 'no counters' : 'complete'}</td></tr>`,
  )}</tbody></table>`;
}

/** What the run cost this host: capture bytes, disk, segmenting, analysis time after the run, memory. */
function resourcesBlock(r: RunResults): Markup | string {
  const res = r.resources;
  if (!res) return '';
  const rows: [string, string, string][] = [
    ['captureBytes', 'capture bytes', bytesWithCount(res.captureBytes)],
    ['peakCaptureDiskBytes', 'peak captures on disk', bytesWithCount(res.peakCaptureDiskBytes)],
    [
      'segmentSeconds',
      'capture segments',
      res.segmentSeconds === null
        ? 'whole files (analysed after the run)'
        : `${res.segmentSeconds} s, each analysed and deleted during the run`,
    ],
    ...(res.segmentsAnalysedDuringRun !== undefined
      ? [
          [
            'segmentsAnalysedDuringRun',
            'segments analysed during the run',
            formatInt(res.segmentsAnalysedDuringRun),
          ] as [string, string, string],
        ]
      : []),
    ...(res.latePackets
      ? [
          [
            'latePackets',
            'packets handed over after their segment was sealed',
            `${formatInt(res.latePackets)} (analysed with the next segment)`,
          ] as [string, string, string],
        ]
      : []),
    ['analysisAfterRunMs', 'analysis after the run', `${(res.analysisAfterRunMs / 1000).toFixed(2)} s`],
    ['maxRssBytes', 'peak memory', formatBytes(res.maxRssBytes)],
  ];
  return html`<h3 id="resources">Run resources</h3>
<dl class="meta" data-testid="run-resources">${rows.map(([key, label, value]) => html`<dt>${label}</dt><dd data-testid="resource" data-resource="${key}">${value}</dd>`)}</dl>`;
}

/** Bytes in binary units for reading ("1.5 GiB"), the exact count beside it. */
function bytesWithCount(n: number): string {
  return n < 1024 ? formatBytes(n) : `${formatBytes(n)} (${formatInt(n)} bytes)`;
}
