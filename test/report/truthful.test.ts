/**
 * Reports say what was done and never tick what was not judged: a check with nothing to judge is
 * "not evaluated" with its reason in the verdict, the results JSON, the HTML, JUnit and the matchers;
 * a failing latency bound names its hop pair; the run's sizes, command line, faults, provenance, per-size
 * results, hop-labelled latency rows, findings and hop counters are rendered.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.ts';
import { collectRunEntries, renderIndex } from '../../src/report/index-page.ts';
import { renderJunit } from '../../src/report/junit.ts';
import type { RunResults } from '../../src/report/results.ts';
import { chainMatchers } from '../../src/vitest/matchers.ts';
import { syntheticResults } from '../helpers/synthetic-run.ts';
import { loadFixture } from './fixtures.ts';

/** Probes seen at the first reach(seq) points; hop i→i+1 takes delay(i) ns; sizes alternate 100/8000. */
const results = (count: number, reach: (seq: number) => number, delay = (_i: number) => 10_000n) =>
  syntheticResults({
    count,
    reach,
    hopDelayNs: delay,
    size: (seq) => (seq % 2 ? 8000 : 100),
    injectedBySize: [
      { payloadBytes: 100, sent: Math.ceil(count / 2) },
      { payloadBytes: 8000, sent: Math.floor(count / 2) },
    ],
    acceptance: { minDeliveryRatio: 0.5, maxLatencyP99Ms: 1 },
    fragmentation: { maxFragmentBytes: null, reassembled: 0, expectFragments: true },
  });
const check = (r: RunResults, name: string) => r.checks.find((c) => c.name === name)!;

describe('checks with nothing to judge', () => {
  // every probe vanished in the vxlan hop: nothing reached the NAT, nothing arrived
  const r = results(200, () => 2);

  it('are "not evaluated" with the reason, never pass', () => {
    expect(check(r, 'source IP preserved')).toMatchObject({ status: 'not-evaluated', pass: false });
    expect(check(r, 'source IP preserved').detail).toBe(
      'not evaluated: no probe was seen after the NAT (at nat, wire, delivered)',
    );
    expect(check(r, 'NAT rewrite').status).toBe('not-evaluated');
    expect(check(r, 'latency p99').detail).toBe('not evaluated: no probe arrived at the last capture point');
    expect(check(r, 'ESP').detail).toBe('not evaluated: no ESP packet was seen');
    expect(check(r, 'fragmentation').status).toBe('not-evaluated');
    expect(check(r, 'captures complete').status).toBe('not-evaluated');
    expect(check(r, 'delivery').status).toBe('fail');
    expect(check(r, 'delivery').hop).toBe('security');
    expect(r.verdict).toBe('fail');
  });

  it('show as not evaluated in HTML, JUnit (skipped) and the matchers', () => {
    const page = renderHtml(r);
    expect(page).toMatch(
      /data-check="source IP preserved" data-pass="false" data-status="not-evaluated"><td>source IP preserved<\/td><td class="na nowrap">– not evaluated<\/td>/,
    );
    const xml = renderJunit(r);
    expect(xml).toMatch(
      /name="source IP preserved" time="0">\s*<skipped message="not evaluated: no probe was seen after the NAT/,
    );
    expect(xml).toMatch(/skipped="6"/); // source, NAT, fragmentation, ESP, latency, captures
    const m = chainMatchers.toPreserveSourceIp(r);
    expect(m.pass).toBe(false);
    expect(m.message()).toBe(
      'source IP preserved: not evaluated: no probe was seen after the NAT (at nat, wire, delivered)',
    );
    expect(chainMatchers.toPassVerdict(r).message()).toMatch(/not evaluated:\n {2}– source IP preserved/);
  });
});

describe('a latency bound exceeded', () => {
  // every probe delivered, 2 ms spent between nat and wire (the security hop's ESP + link)
  const r = results(
    200,
    () => 5,
    (i) => (i === 2 ? 2_000_000n : 10_000n),
  );

  it('names the hop pair and the hop it measures, in the check and the matcher', () => {
    const c = check(r, 'latency p99');
    expect(c).toMatchObject({ status: 'fail', hop: 'security', between: { from: 'nat', to: 'wire' } });
    expect(c.detail).toMatch(
      /exceeds the bound 1 ms; most of it between nat and wire \(hop "security": p99 2000\.0 µs\)/,
    );
    expect(chainMatchers.toHaveLatency(r, { p99: '1ms' }).message()).toMatch(
      /slowest segment nat→wire \(hop "security", p99 2\.00 ms\)/,
    );
    expect(r.latency.perHop.map((h) => h.hop)).toEqual(['vxlan', 'security', 'security', 'destination']);
    expect(renderHtml(r)).toContain('hop security (nat → wire)');
  });

  it('per payload size: delivery and latency of each size requested', () => {
    expect(r.bySize.map((s) => [s.payloadBytes, s.sent, s.delivered, s.latency.samples])).toEqual([
      [100, 100, 100, 100],
      [8000, 100, 100, 100],
    ]);
    expect(renderHtml(r)).toMatch(
      /data-testid="by-size-row" data-size="8000"><td class="num">8,000 B<\/td><td class="num">100<\/td>/,
    );
  });
});

describe('what was done', () => {
  const r = loadFixture('run-fail');
  r.run.requested = { count: 1000, pps: 1000, payloadBytes: [100, 8000] };
  r.run.commandLine = ['chainprobe', 'run', '--size', '100,8000'];
  r.run.faults = [{ hop: 'security', kind: 'drop', detail: '30 %' }];
  r.run.interrupted = { reason: 'stopped by the user (SIGINT)', sentBeforeStop: 412 };
  r.tool.commit = '0123456789abcdef0123456789abcdef01234567';
  r.findings = [{ kind: 'ip-id-reuse', capture: 'wire', hop: 'security', count: 9, detail: 'nine reused' }];
  r.counters = {
    security: {
      source: 'vppctl show errors',
      counters: [{ name: 'esp4-encrypt: packets dropped', before: 10, after: 310, delta: 300 }],
    },
  };
  r.artifacts = { captures: { policy: 'on-failure', files: ['pcaps/run.pcapng'], bytes: 123456 } };
  const page = renderHtml(r);

  it('renders sizes, command line, faults, provenance, interruption, findings, counters and bytes kept', () => {
    expect(page).toMatch(/<td>payload<\/td><td class="num">100 B, 8,000 B<\/td>/);
    expect(page).toContain('<dd class="mono" data-testid="command-line">chainprobe run --size 100,8000</dd>');
    expect(page).toContain('<dd data-testid="faults"><b>security</b>: drop 30 %</dd>');
    expect(page).toMatch(/commit <span class="mono">0123456789abcdef/);
    expect(page).toContain('data-testid="interrupted"');
    expect(page).toMatch(
      /data-testid="finding" data-kind="ip-id-reuse"><b>ip-id-reuse<\/b> at wire \(sent by hop security, 9×\)/,
    );
    expect(page).toMatch(
      /data-testid="hop-counters" data-hop="security"><h4>security <span class="muted">\(vppctl show errors\)/,
    );
    expect(page).toMatch(
      /<td class="name">esp4-encrypt: packets dropped<\/td><td class="num">10<\/td><td class="num">310<\/td><td class="num">300<\/td>/,
    );
    expect(page).toContain('on-failure: 1 files, 123,456 bytes');
    // the funnel comes before the counters, which come before the latency
    expect(page.indexOf('id="funnel"')).toBeLessThan(page.indexOf('id="hop-counters"'));
    expect(page.indexOf('id="hop-counters"')).toBeLessThan(page.indexOf('id="latency"'));
  });
});

describe('reports/index.html', () => {
  it('lists every run under the root, CLI runs too, with dates, failures first then newest', () => {
    const root = mkdtempSync(join(tmpdir(), 'cp-index-all-'));
    const put = (dir: string, r: RunResults, withHtml = true) => {
      mkdirSync(join(root, dir, 'pcaps'), { recursive: true });
      writeFileSync(join(root, dir, 'results.json'), JSON.stringify(r));
      if (withHtml) writeFileSync(join(root, dir, 'index.html'), '<html></html>');
      // a results.json inside pcaps/ is not a run
      writeFileSync(join(root, dir, 'pcaps', 'results.json'), '{}');
    };
    const at = (iso: string, base: 'run-pass' | 'run-fail', cmd?: string[]) => {
      const r = loadFixture(base);
      r.run.startedAt = iso;
      if (cmd) r.run.commandLine = cmd;
      return r;
    };
    put('run', at('2026-11-30T08:00:00.000Z', 'run-pass'));
    put(
      'run-2026-11-30T09-00',
      at('2026-11-30T09:00:00.000Z', 'run-pass', ['chainprobe', 'run', '--count', '10']),
    );
    put('run-2026-11-30T07-00', at('2026-11-30T07:00:00.000Z', 'run-fail'), false);
    put('suites/faults/drop', at('2026-11-30T06:00:00.000Z', 'run-fail'));
    const entries = collectRunEntries(root, [
      {
        title: 'faults › drop',
        href: 'suites/faults/drop/index.html',
        verdict: 'fail',
        deliveryRatio: 0.6,
        expectedVerdict: 'fail',
      },
    ]);
    expect(entries).toHaveLength(4);
    const page = renderIndex(entries);
    const rows = [
      ...page.matchAll(
        /data-testid="index-row"[^>]*>[\s\S]*?<a href="([^"]*)">[\s\S]*?data-col="started">([^<]*)</g,
      ),
    ].map((m) => [m[1], m[2]]);
    expect(rows).toEqual([
      ['run-2026-11-30T07-00/results.json', '2026-11-30 07:00:00Z'], // the unexpected failure
      ['run-2026-11-30T09-00/index.html', '2026-11-30 09:00:00Z'],
      ['run/index.html', '2026-11-30 08:00:00Z'],
      ['suites/faults/drop/index.html', '2026-11-30 06:00:00Z'], // failed as it must
    ]);
    expect(page).toContain('chainprobe run --count 10');
    expect(page).toContain('faults › drop');
  });
});
