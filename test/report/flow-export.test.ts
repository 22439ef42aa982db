/**
 * The HTML report of a flow-export run and of a soak: the collectors' view beside the chain's delivery
 * (passing, failing on socket drops, not evaluated without collectors), per-second delivery with end-to-end
 * latency, the run's resources, and "datagrams" where a probe run says "probes". The collector section and
 * check are made by the run's own collectorSection, so the report is tested against what runs write.
 * Every page must parse cleanly with libxml2's HTML parser.
 */
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.ts';
import type { RunResults } from '../../src/report/results.ts';
import { collectorReadings, flowExportRun, htmlErrors, loadFixture } from './fixtures.ts';

const COLLECTOR_CHECK = 'collector agrees with delivery';

/** One collector row's cells by data-col, tags stripped. */
function collectorRow(page: string, collector: string): Record<string, string> {
  const row = new RegExp(
    `<tr data-testid="collector-row" data-collector="${collector}"[^>]*>([\\s\\S]*?)</tr>`,
  ).exec(page);
  if (!row) throw new Error(`no collector row for ${collector}`);
  const cells: Record<string, string> = {};
  for (const m of row[1].matchAll(/<td[^>]*data-col="([^"]+)"[^>]*>([\s\S]*?)<\/td>/g))
    cells[m[1]] = m[2].replace(/<[^>]+>/g, '');
  return cells;
}

/** What a reader sees: no scripts or styles, no tags. */
function visibleText(page: string): string {
  return page
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/[ \t]+/g, ' ');
}

function timelineRows(page: string): string[][] {
  return [...page.matchAll(/<tr data-testid="timeline-row">([\s\S]*?)<\/tr>/g)].map((m) =>
    [...m[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, '')),
  );
}

const withDrops = () => {
  const readings = collectorReadings();
  readings[0].socketDrops = 37;
  return flowExportRun(readings);
};

describe('Collector section', () => {
  it('passing collectors: one row per view, "not checked" and "unknown" where a collector cannot say', () => {
    const r = flowExportRun(collectorReadings());
    const page = renderHtml(r);
    expect(r.verdict).toBe('pass');
    expect(page).toContain('<a href="#collector">Collector</a>');
    expect(page).toMatch(
      /data-testid="collector-check" data-status="pass"><b>collector agrees with delivery<\/b>: <span class="ok nowrap">✔ pass<\/span>/,
    );
    expect(collectorRow(page, 'nfcapd')).toEqual({
      flows: '1,442,118',
      packets: '2,398,410',
      bytes: '1,870,759,800',
      sequenceFailures: '3',
      socketDrops: '0',
      badPackets: '0',
      exporters: '4 which10.10.10.6 id 1, 10.10.10.7 id 2, 10.10.10.8 id 3, 10.10.10.9 id 4',
    });
    expect(collectorRow(page, 'sfcapd')).toMatchObject({
      sequenceFailures: 'not checked by sfcapd',
      socketDrops: 'unknown',
      exporters: '2 which10.10.10.10 id 1, 10.10.10.11 id 2',
    });
    expect(page).toContain('<td class="mono">172.20.102.11:6343</td>');
    expect(page).not.toContain('data-testid="exporters-missing"');
    // after the funnel (delivery), before the latency
    expect(page.indexOf('id="funnel"')).toBeLessThan(page.indexOf('id="collector"'));
    expect(page.indexOf('id="collector"')).toBeLessThan(page.indexOf('id="latency"'));
  });

  it('socket drops fail the check: the row is flagged, the drop count red, the verdict FAIL', () => {
    const r = withDrops();
    const page = renderHtml(r);
    expect(r.verdict).toBe('fail');
    expect(page).toContain('data-testid="verdict-text">FAIL</div>');
    expect(page).toMatch(
      /data-testid="collector-check" data-status="fail">[\s\S]*?<span class="bad nowrap">✘ fail<\/span> — collector socket overflow: nfcapd \(172\.20\.102\.11:2055\) lost 37 datagrams the chain delivered/,
    );
    expect(page).toMatch(/data-collector="nfcapd" class="flagged"/);
    expect(page).toContain('<td class="num bad" data-col="socketDrops">37</td>');
    expect(page).toMatch(
      new RegExp(`<li data-check="${COLLECTOR_CHECK}"><b>${COLLECTOR_CHECK}</b> — collector socket overflow`),
    );
    expect(page).toContain('collector loss, not chain loss');
  });

  it('calls out exporters no collector saw under their own address', () => {
    const readings = collectorReadings();
    readings[1].exporters = readings[1].exporters.slice(0, 1);
    const page = renderHtml(flowExportRun(readings));
    const missing = /<p class="bad" data-testid="exporters-missing">([^<]*)<\/p>/.exec(page)?.[1];
    expect(missing).toBe(
      '⚠ 1 exporters reached no collector under their own address: 10.10.10.11 (source rewritten on the way, or all their datagrams lost).',
    );
    expect(page).toMatch(/data-status="fail">[\s\S]*?exporters not seen by any collector: 10\.10\.10\.11/);
  });

  it('no collector: the note, "not evaluated", no table, never a pass', () => {
    const r = flowExportRun(null);
    const page = renderHtml(r);
    expect(r.collector?.ran).toBe(false);
    expect(page).toMatch(
      /data-testid="collector-check" data-status="not-evaluated"><b>collector agrees with delivery<\/b>: <span class="na nowrap">– not evaluated<\/span> — not evaluated: the chain&#39;s driver has no flow collectors<\/p>/,
    );
    expect(page).toContain(
      '<p class="na" data-testid="collector-note">No collector view: the chain&#39;s driver has no flow collectors.</p>',
    );
    expect(page).not.toContain('data-testid="collector-table"');
    expect(page).toMatch(
      new RegExp(
        `data-check="${COLLECTOR_CHECK}" data-pass="false" data-status="not-evaluated"><td>${COLLECTOR_CHECK}</td><td class="na nowrap">– not evaluated`,
      ),
    );
    expect(page).toMatch(/No check failed: 9 passed, 1 not evaluated \(collector agrees with delivery\)/);
  });

  it('a document claiming a pass without any collector view still shows "not evaluated"', () => {
    const r = flowExportRun(null);
    const c = r.checks.find((k) => k.name === COLLECTOR_CHECK)!;
    Object.assign(c, { status: 'pass', pass: true });
    const page = renderHtml(r);
    expect(page).toMatch(/data-testid="collector-check" data-status="not-evaluated">[\s\S]*?– not evaluated/);
  });

  it('escapes what the collectors report', () => {
    const readings = collectorReadings();
    readings[0].collector = '<img src=x onerror=alert(1)>';
    const page = renderHtml(flowExportRun(readings));
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('not checked by');
    expect(htmlErrors(page)).toEqual([]);
  });

  it('is absent from probe runs', () => {
    const page = renderHtml(loadFixture('run-pass'));
    expect(page).not.toContain('id="collector"');
    expect(page).not.toContain('href="#collector"');
  });
});

describe('delivery over time with latency (soak: 1 s buckets)', () => {
  const r = flowExportRun(collectorReadings());
  const page = renderHtml(r);
  const rows = timelineRows(page);

  it('says "per second" and adds latency columns', () => {
    expect(page).toContain('<caption>Delivery and end-to-end latency per second</caption>');
    expect(page).toContain('<summary>Timeline as a table (300 buckets, per second)</summary>');
    expect(page).toMatch(/<th class="num">e2e p50<\/th><th class="num">e2e p99<\/th>/);
    expect(page).toContain('aria-label="delivery ratio and end-to-end latency over time"');
    expect(rows).toHaveLength(300);
    expect(rows[1]).toEqual([
      '1.000 s',
      '10,000',
      '9,999',
      '99.99 %',
      '9,999',
      '412.1 µs',
      '1,251.0 µs',
      '3,100.0 µs',
    ]);
  });

  it('a bucket that delivered nothing shows "–", not 0', () => {
    expect(rows[150]).toEqual(['150.000 s', '10,000', '0', '0.0 %', '–', '–', '–', '–']);
  });

  it('a percentile with too few samples says so', () => {
    const few = flowExportRun(collectorReadings());
    few.timeline[2].latency = { samples: 3, p50Ns: 400_000, p99Ns: null, maxNs: 900_000 };
    expect(timelineRows(renderHtml(few))[2].slice(4)).toEqual([
      '3',
      '400.0 µs',
      'too few samples',
      '900.0 µs',
    ]);
  });

  it('across clocks: values below the uncertainty are "not reported", not "too few samples"', () => {
    const clocked = flowExportRun(collectorReadings());
    clocked.latency.e2e.clockUncertaintyNs = 500_000;
    clocked.timeline[2].latency = { samples: 9_998, p50Ns: null, p99Ns: 1_500_000, maxNs: 3_000_000 };
    const out = renderHtml(clocked);
    expect(timelineRows(out)[2].slice(4)).toEqual(['9,998', 'not reported', '1,500.0 µs', '3,000.0 µs']);
    expect(out).toContain(
      'Across clocks (± 500.0 µs) values are rounded to the clock uncertainty; below it, or with too few samples, they are not reported.',
    );
  });

  it('probe runs without bucket latency keep the four columns; the width is said when recorded', () => {
    const probe = loadFixture('run-pass');
    let out = renderHtml(probe);
    expect(timelineRows(out)[0]).toEqual(['0.0 µs', '100', '100', '100.0 %']);
    expect(out).toContain('<caption>Delivery per bucket</caption>');
    expect(out).toContain('Probes grouped by the time they were first seen');
    probe.timelineBucketNs = 100_000_000;
    out = renderHtml(probe);
    expect(out).toContain('<caption>Delivery per 100 ms</caption>');
    expect(out).toContain('Probes grouped per 100 ms by the time they were first seen');
  });
});

describe('run resources', () => {
  const resources = (r: RunResults) =>
    Object.fromEntries(
      [...renderHtml(r).matchAll(/<dd data-testid="resource" data-resource="(\w+)">([^<]*)<\/dd>/g)].map(
        (m) => [m[1], m[2]],
      ),
    );

  it('capture bytes and peak on disk in binary units, segments, analysis time, peak memory', () => {
    expect(renderHtml(flowExportRun(null))).toMatch(
      /<h3 id="resources">Run resources<\/h3>\n<dl class="meta" data-testid="run-resources"><dt>capture bytes<\/dt>/,
    );
    expect(resources(flowExportRun(collectorReadings()))).toEqual({
      captureBytes: '9.0 GiB (9,663,676,416 bytes)',
      peakCaptureDiskBytes: '384.0 MiB (402,653,184 bytes)',
      segmentSeconds: '10 s, each analysed and deleted during the run',
      segmentsAnalysedDuringRun: '29',
      analysisAfterRunMs: '4.21 s',
      maxRssBytes: '700.0 MiB',
    });
  });

  it('whole files when not segmented; nothing when the results carry no resources', () => {
    const r = loadFixture('run-pass');
    expect(resources(r)).toEqual({});
    expect(renderHtml(r)).not.toContain('Run resources');
    r.resources = {
      captureBytes: 812,
      peakCaptureDiskBytes: 812,
      segmentSeconds: null,
      analysisAfterRunMs: 35,
      maxRssBytes: 104_857_600,
    };
    expect(resources(r)).toEqual({
      captureBytes: '812 B',
      peakCaptureDiskBytes: '812 B',
      segmentSeconds: 'whole files (analysed after the run)',
      analysisAfterRunMs: '0.04 s',
      maxRssBytes: '100.0 MiB',
    });
  });
});

describe('wording: a flow-export run sends datagrams', () => {
  it('says datagrams wherever a probe run says probes (check details from the analysis aside)', () => {
    const r = withDrops();
    r.faultySegment = { from: 'nat', to: 'wire', lost: 7 };
    r.run.interrupted = { reason: 'stopped by the user (SIGINT)', sentBeforeStop: 1_000 };
    const page = renderHtml(r);
    const text = visibleText(page.replace(/<table id="checks-table"[\s\S]*?<\/table>/, ''));
    expect(text).toContain('2,989,106 of 3,000,000 datagrams delivered');
    expect(text).toContain('Datagrams were lost between nat (hop security) and wire (hop destination):');
    expect(text).toContain('1,000 datagrams had been sent');
    expect(text).toContain('Unique datagrams seen at each capture point');
    expect(text).toContain('flow export: mix netflow-v9:50,ipfix:30,sflow:20, 2 exporters per kind');
    expect(text).toContain('datagrams checked'); // the violations table's header
    expect(text.replace(/chainprobe/g, '').match(/\bprobes?\b/gi)).toBeNull();
    expect(page).toContain(
      "var UNIT = data.run.requested && data.run.requested.traffic ? 'datagrams' : 'probes';",
    );
  });
});

describe('HTML stays valid', () => {
  const pages: [string, string][] = [
    ['probe run, pass', renderHtml(loadFixture('run-pass'))],
    ['probe run, fail', renderHtml(loadFixture('run-fail'))],
    ['flow export, collectors pass', renderHtml(flowExportRun(collectorReadings()))],
    ['flow export, socket drops', renderHtml(withDrops())],
    ['flow export, no collector', renderHtml(flowExportRun(null))],
  ];
  it.each(pages)('%s: libxml2 parses it without errors', (_name, page) => {
    expect(htmlErrors(page)).toEqual([]);
  });

  it('the parser check can fail: a stray end tag is reported', () => {
    const broken = pages[2][1].replace(
      '<td class="num" data-col="flows">',
      '</tr><td class="num" data-col="flows"></span>',
    );
    expect(htmlErrors(broken).length).toBeGreaterThan(0);
  });
});
