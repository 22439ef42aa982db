/**
 * The NDR/PDR benchmark page (`ndr --report DIR`): one self-contained HTML file, no script. Per payload
 * size: NDR and PDR with their bounds, latency under load (end to end and per hop pair), the search's
 * trials (invalid ones marked, with the reason) and a chart of the search's way to its answer.
 */
import type { LatencyAtLoad, NdrDocument, RateResult, SizeResult } from '../benchmark/ndr.ts';
import { formatInt, formatPercent, formatUs } from './format.ts';
import { html, type Markup, raw } from './markup.ts';
import { staticPage, writePage } from './static-page.ts';
import { svgChart } from './svg-chart.ts';

const PHASE_COLORS: Record<string, string> = {
  warmup: '#8c959f',
  initial: '#8250df',
  intermediate: '#0969da',
  final: '#1a7f37',
};

export function renderNdrHtml(doc: NdrDocument): string {
  const s = doc.settings;
  const body = html`<h1>NDR / PDR <span class="muted">· profile ${doc.profile} · ${doc.startedAt} · ${doc.machine.hostname} (${doc.machine.cpus} CPUs, load ${doc.machine.loadAverage})</span></h1>
<h2 id="summary">Summary</h2>
<table>
<tr><th>payload</th><th>NDR (loss ${formatPercent(s.lossRatios[0])})</th><th>bounds</th><th>PDR (loss ≤ ${formatPercent(s.lossRatios[1])})</th><th>bounds</th><th>trials (invalid)</th><th>took</th></tr>
${doc.sizes.map(
  (z) =>
    html`<tr><td>${z.payloadBytes} B</td>${rateCells(z.ndr)}${rateCells(z.pdr)}<td>${z.trials.length} (${z.trials.filter((t) => !t.valid).length})</td><td>${z.tookS.toFixed(0)} s</td></tr>`,
)}
</table>
<p class="muted">Search (MLRsearch, RFC 9971): final trials ${s.finalTrialDurationS} s, initial trials ${s.initialTrialDurationS ?? 1} s,
goal width ${formatPercent(s.width ?? 0.05)}, exceed ratio ${s.exceedRatio ?? 0.5}, duration sum ${s.durationSumS ?? 2 * s.finalTrialDurationS} s,
loads ${formatInt(s.minLoadPps)}–${formatInt(s.maxLoadPps)} pps, ${doc.injector} injector. The reported rate is the Relevant Lower Bound;
the true capacity lies between it and the upper bound. Invalid trials (the injector could not sustain the offered rate, or a
capture lost packets) are shown but never counted as the chain's loss.</p>
${doc.sizes.map(sizeSection)}
<footer>chainprobe ${doc.tool.version} · NDR schema v${doc.schemaVersion} · the whole document is embedded (script#ndr-json).</footer>`;
  return staticPage({
    title: `chainprobe NDR/PDR · ${doc.profile} · ${doc.startedAt}`,
    body,
    data: { id: 'ndr-json', value: doc },
  });
}

export function writeNdrHtml(doc: NdrDocument, dir: string): string {
  return writePage(dir, renderNdrHtml(doc));
}

function rateCells(r: RateResult): Markup {
  const badge = r.converged ? '' : ' (not converged)';
  return html`<td><b>${r.pps === null ? 'none' : `${formatInt(r.pps)} pps`}</b>${badge}${r.note ? html`<br><span class="muted">${r.note}</span>` : ''}</td><td>${formatInt(r.lowerPps)} … ${formatInt(r.upperPps)}</td>`;
}

function sizeSection(z: SizeResult): Markup {
  const chart = svgChart({
    label: `search trials for ${z.payloadBytes} B`,
    xLabel: 'trial',
    yLabel: 'offered pps',
    connect: true,
    points: z.trials.map((t) => ({
      x: t.index,
      y: t.offeredPps,
      color: t.valid ? (t.lossRatio > 0 ? '#cf222e' : PHASE_COLORS[t.phase]) : '#bf8700',
      hollow: !t.valid || t.phase === 'warmup',
      title: `#${t.index} ${t.phase} ${t.offeredPps} pps × ${t.durationS} s: ${t.valid ? `loss ${formatPercent(t.lossRatio)}` : `invalid: ${t.invalidReason}`}`,
    })),
    segments: [
      ...(z.ndr.pps !== null
        ? [{ x1: 0, x2: z.trials.length - 1, y: z.ndr.pps, color: '#1a7f37', title: `NDR ${z.ndr.pps} pps` }]
        : []),
      ...(z.pdr.pps !== null
        ? [
            {
              x1: 0,
              x2: z.trials.length - 1,
              y: z.pdr.pps,
              color: '#bc4c00',
              dashed: true,
              title: `PDR ${z.pdr.pps} pps`,
            },
          ]
        : []),
    ],
  });
  return html`<h2 id="size-${z.payloadBytes}">${z.payloadBytes} B payload</h2>
<h3>Latency under load</h3>
${latencyTable(z)}
<h3>Search</h3>
${chart}
<p class="muted">Filled: valid trials (red: with loss); hollow: warm-up (ignored) or invalid (amber). Green line: NDR, dashed: PDR.</p>
<table>
<tr><th>#</th><th>phase</th><th>offered</th><th>achieved</th><th>duration</th><th>sent</th><th>delivered</th><th>loss</th><th>NDR bounds after</th><th>PDR bounds after</th></tr>
${z.trials.map(
  (t) =>
    html`<tr${t.valid ? '' : raw(' class="invalid"')}><td>${t.index}</td><td>${t.phase}</td><td>${formatInt(t.offeredPps)}</td><td>${formatInt(Math.round(t.achievedPps))}</td><td>${t.durationS} s (${t.elapsedS.toFixed(2)} s)</td><td>${formatInt(t.sent)}</td><td>${formatInt(t.delivered)}</td><td>${t.valid ? formatPercent(t.lossRatio) : html`<b>invalid</b>: ${t.invalidReason}`}</td><td>${boundsText(t.bounds.ndr)}</td><td>${boundsText(t.bounds.pdr)}</td></tr>`,
)}
</table>`;
}

function boundsText(b: { lowerPps: number | null; upperPps: number | null } | undefined): string {
  return b ? `${formatInt(b.lowerPps)} … ${formatInt(b.upperPps)}` : '—';
}

function latencyTable(z: SizeResult): Markup {
  const rows = Object.entries(z.latency);
  if (rows.length === 0) return html`<p class="muted">not evaluated: there is no PDR to take a share of.</p>`;
  const hopNames = rows[0][1].perHop.map((h) => `${h.from}→${h.to}`);
  const pct = (l: LatencyAtLoad['e2e']) =>
    `${formatUs(l.p50Ns) ?? 'n/a'} / ${formatUs(l.p90Ns) ?? 'n/a'} / ${formatUs(l.p99Ns) ?? 'n/a'} / ${formatUs(l.p999Ns) ?? 'n/a'}`;
  return html`<table>
<tr><th>load</th><th>offered</th><th>delivered</th><th>end to end p50 / p90 / p99 / p99.9</th>${hopNames.map((h) => html`<th>${h} p50 / p99</th>`)}</tr>
${rows.map(
  ([share, l]) =>
    html`<tr><td>${share} % of PDR</td><td>${formatInt(l.offeredPps)} pps</td><td>${formatInt(l.delivered)} of ${formatInt(l.sent)}</td><td>${pct(l.e2e)}${l.e2e.note ? html`<br><span class="muted">${l.e2e.note}</span>` : ''}${l.note ? html`<br><span class="muted">${l.note}</span>` : ''}</td>${l.perHop.map((h) => html`<td>${formatUs(h.latency.p50Ns) ?? 'n/a'} / ${formatUs(h.latency.p99Ns) ?? 'n/a'}</td>`)}</tr>`,
)}
</table>`;
}
