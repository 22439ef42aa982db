/**
 * The report's in-page script: reads the embedded results JSON and draws every chart with Chart.js.
 * Kept as plain browser JavaScript in a string (not a TS function's toString()) so no transpiler
 * helper can leak into the page. Canvases are found by data-chart / data-series attributes the HTML
 * renderer writes, so the two sides agree on which series goes where without sharing code.
 * Animation is off: charts are complete on first paint (screenshots, the browser test, printing).
 */
export const CHART_SCRIPT = `
(function () {
  'use strict';
  var root = document.documentElement;
  if (typeof Chart === 'undefined') { root.setAttribute('data-charts', 'unavailable'); return; }
  var data = JSON.parse(document.getElementById('results-json').textContent);
  var C = { pass: '#1a7f37', fail: '#cf222e', blue: '#0969da', grey: '#8c959f', warn: '#bf8700' };
  var SERIES_COLORS = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#bc4c00', '#6e7781', '#0550ae'];
  // Flow-export runs send datagrams, not probes (same rule as html.ts).
  var UNIT = data.run.requested && data.run.requested.traffic ? 'datagrams' : 'probes';
  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.color = '#24292f';
  Chart.defaults.maintainAspectRatio = false;

  function canvas(kind, series) {
    var sel = 'canvas[data-chart="' + kind + '"]' + (series !== undefined ? '[data-series="' + series + '"]' : '');
    return document.querySelector(sel);
  }
  function us(ns) { return ns / 1000; }
  function fmtUs(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }

  // Hop funnel: probes seen per capture point, chain order. The point the faulty segment ends at is red,
  // points whose capture dropped packets are amber (their gap may be capture loss).
  (function () {
    var el = canvas('funnel');
    if (!el) return;
    var seg = data.faultySegment;
    var flagged = {};
    (data.captureDrops || []).forEach(function (d) { if (d.flagged) flagged[d.capture] = true; });
    new Chart(el, {
      type: 'bar',
      data: {
        labels: data.hops.map(function (h) { return h.name + ' (' + h.hop + ')'; }),
        datasets: [{
          label: UNIT + ' seen',
          data: data.hops.map(function (h) { return h.seen; }),
          backgroundColor: data.hops.map(function (h) {
            return seg && seg.to === h.name ? C.fail : flagged[h.name] ? C.warn : C.blue;
          }),
        }],
      },
      options: {
        plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: function (ctx) {
          var h = data.hops[ctx.dataIndex];
          return 'lost here: ' + h.lostHere + '  ·  of sent: ' + (data.sent ? (100 * h.seen / data.sent).toFixed(1) : '-') + ' %';
        } } } },
        scales: { y: { beginAtZero: true, suggestedMax: data.sent, title: { display: true, text: 'unique ' + UNIT + ' seen' } } },
      },
    });
  })();

  var series = [{ key: 'e2e', label: 'end to end', s: data.latency.e2e }].concat(
    data.latency.perHop.map(function (h, i) { return { key: String(i), label: h.from + ' → ' + h.to, s: h.latency }; }));

  // Histograms: buckets are log-spaced upper bounds (leNs), so bars are categories labelled "≤ x µs".
  series.forEach(function (sr, i) {
    var el = canvas('histogram', sr.key);
    if (!el || !sr.s || !sr.s.histogram.length) return;
    new Chart(el, {
      type: 'bar',
      data: {
        labels: sr.s.histogram.map(function (b) { return '≤ ' + fmtUs(us(b.leNs)); }),
        datasets: [{ label: sr.label, data: sr.s.histogram.map(function (b) { return b.count; }),
          backgroundColor: SERIES_COLORS[i % SERIES_COLORS.length], barPercentage: 1, categoryPercentage: 0.95 }],
      },
      options: {
        plugins: { legend: { display: false }, title: { display: true, text: sr.label } },
        scales: { x: { title: { display: true, text: 'latency bucket upper bound (µs, log-spaced)' } },
          y: { beginAtZero: true, title: { display: true, text: UNIT } } },
      },
    });
  });

  // CDF of every series on one log-x axis: where the curves part is where the time goes.
  (function () {
    var el = canvas('cdf');
    if (!el) return;
    var sets = [];
    series.forEach(function (sr, i) {
      if (!sr.s || !sr.s.histogram.length) return;
      var total = sr.s.histogram.reduce(function (a, b) { return a + b.count; }, 0);
      if (!total) return;
      var first = sr.s.histogram[0].leNs / Math.pow(10, 0.25);
      var pts = [{ x: us(first), y: 0 }];
      var cum = 0;
      sr.s.histogram.forEach(function (b) { cum += b.count; pts.push({ x: us(b.leNs), y: 100 * cum / total }); });
      var color = SERIES_COLORS[i % SERIES_COLORS.length];
      sets.push({ label: sr.label, data: pts, borderColor: color, backgroundColor: color,
        borderWidth: sr.key === 'e2e' ? 3 : 1.5, pointRadius: 2, tension: 0 });
    });
    if (!sets.length) return;
    new Chart(el, {
      type: 'line',
      data: { datasets: sets },
      options: {
        parsing: false,
        plugins: { legend: { position: 'right' } },
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: 'latency (µs, log scale)' },
            // only 1-2-5 ticks: the default labels every minor tick and they overlap
            ticks: { autoSkip: false, maxRotation: 0, callback: function (v) {
              var m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
              return Math.abs(m - 1) < 1e-6 || Math.abs(m - 2) < 1e-6 || Math.abs(m - 5) < 1e-6 ? Number(v.toPrecision(6)).toLocaleString('en-US') : '';
            } } },
          y: { min: 0, max: 100, title: { display: true, text: '% of ' + UNIT + ' ≤ latency' } },
        },
      },
    });
  })();

  // Delivery over time: ratio per bucket (line) over datagrams/probes sent per bucket (bars). With per-bucket
  // end-to-end latency, p99 and p50 lines on their own µs axis; a bucket without latency is a gap, not 0.
  (function () {
    var el = canvas('timeline');
    if (!el || !data.timeline.length) return;
    var t = data.timeline;
    var maxSent = Math.max.apply(null, t.map(function (b) { return b.sent; })) || 1;
    var wholeSeconds = data.timelineBucketNs && data.timelineBucketNs % 1e9 === 0;
    // soaks have hundreds of 1 s buckets: no point markers, hover anywhere on the x position instead
    var pointRadius = t.length > 120 ? 0 : 3;
    var withLatency = t.some(function (b) { return !!b.latency; });
    function latencyUs(b, key) { return b.latency && b.latency[key] != null ? us(b.latency[key]) : null; }
    var datasets = [
      { type: 'line', label: 'delivered (%)', yAxisID: 'ratio', borderColor: C.blue, backgroundColor: C.blue, borderWidth: 2.5, pointRadius: pointRadius,
        data: t.map(function (b) { return b.sent ? 100 * b.delivered / b.sent : null; }) },
    ];
    if (withLatency) {
      datasets.push(
        { type: 'line', label: 'e2e latency p99 (µs)', yAxisID: 'latency', borderColor: '#8250df', backgroundColor: '#8250df', borderWidth: 2, pointRadius: pointRadius,
          data: t.map(function (b) { return latencyUs(b, 'p99Ns'); }) },
        { type: 'line', label: 'e2e latency p50 (µs)', yAxisID: 'latency', borderColor: '#bf3989', backgroundColor: '#bf3989', borderWidth: 1.5, borderDash: [5, 4], pointRadius: pointRadius,
          data: t.map(function (b) { return latencyUs(b, 'p50Ns'); }) });
    }
    datasets.push({ type: 'bar', label: UNIT + ' sent', yAxisID: 'count', backgroundColor: 'rgba(140,149,159,0.22)',
      data: t.map(function (b) { return b.sent; }) });
    var scales = {
      // Headroom above 100 % so a flawless run's line is not hidden in the top border.
      ratio: { position: 'left', min: 0, max: 110, ticks: { callback: function (v) { return v <= 100 ? v + ' %' : ''; } },
        title: { display: true, text: 'delivered (% of sent in bucket)' } },
      // Sent bars are context, not the message: grey axis, scaled so they stay in the lower part of the plot.
      count: { position: 'right', beginAtZero: true, max: Math.ceil(maxSent * 1.8), grid: { drawOnChartArea: false },
        ticks: { color: C.grey }, title: { display: true, text: UNIT + ' sent (grey bars)', color: C.grey } },
      x: { title: { display: true, text: 'time since first ' + UNIT.replace(/s$/, '') + ' (bucket start)' } },
    };
    if (withLatency)
      scales.latency = { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false },
        ticks: { callback: function (v) { return Number(v.toPrecision(6)).toLocaleString('en-US'); } },
        title: { display: true, text: 'end-to-end latency (µs)' } };
    new Chart(el, {
      data: {
        labels: t.map(function (b) { return (b.startNs / 1e9).toFixed(wholeSeconds ? 0 : 2) + ' s'; }),
        datasets: datasets,
      },
      options: { interaction: { mode: 'index', intersect: false }, scales: scales },
    });
  })();

  root.setAttribute('data-charts', 'ready');
})();
`;
