import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderIndex, writeIndex } from '../../src/report/index-page.ts';

describe('index page', () => {
  const entries = [
    { title: 'reference · run 1', href: 'run-1/index.html', verdict: 'pass', deliveryRatio: 1 },
    { title: 'vpp · <b>run 2</b>', href: 'javascript:alert(1)', verdict: 'fail', deliveryRatio: 0.9999 },
    { title: 'reference · run 3', href: 'run-3/index.html', verdict: 'pass', deliveryRatio: 0.95 },
  ];

  it('lists failures first with badges, escaped titles and safe links', () => {
    const out = renderIndex(entries);
    const rows = [
      ...out.matchAll(
        /<tr data-testid="index-row" data-verdict="(\w+)" data-unexpected="\w+">[\s\S]*?<a href="([^"]*)">([^<]*)<\/a><\/td><td class="num">([^<]*)</g,
      ),
    ].map((m) => m.slice(1));
    expect(rows).toEqual([
      ['fail', '#', 'vpp · &lt;b&gt;run 2&lt;/b&gt;', '99.99 %'],
      ['pass', 'run-1/index.html', 'reference · run 1', '100.0 %'],
      ['pass', 'run-3/index.html', 'reference · run 3', '95.0 %'],
    ]);
    expect(out).toContain('<span class="badge fail">FAIL</span>');
    expect(out).toContain('3 reports: <span class="bad">1 not as expected</span>, 2 as expected.');
    expect(out).not.toContain('javascript:');
  });

  it('fault-injection runs that fail as intended are not counted as failures', () => {
    const out = renderIndex([
      {
        title: 'faults › drop',
        href: 'f/index.html',
        verdict: 'fail',
        deliveryRatio: 0.6,
        expectedVerdict: 'fail' as const,
      },
      { title: 'delivery', href: 'd/index.html', verdict: 'pass', deliveryRatio: 1 },
    ]);
    expect(out).toContain(
      '2 reports: <span class="ok">all as expected</span> (1 fault-injection run failed, as they must).',
    );
    expect(out).toContain('(fault injected: expected to fail)');
    const unexpected = renderIndex([
      {
        title: 'faults › drop',
        href: 'f/index.html',
        verdict: 'pass',
        deliveryRatio: 1,
        expectedVerdict: 'fail' as const,
      },
    ]);
    expect(unexpected).toContain('<span class="bad">1 not as expected</span>');
  });

  it('writes DIR/index.html', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-index-'));
    const p = writeIndex(dir, entries.slice(0, 1));
    expect(p).toBe(join(dir, 'index.html'));
    expect(readFileSync(p, 'utf8')).toContain('1 report: <span class="ok">all as expected</span>.');
  });
});
