import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml, writeHtmlReport } from '../../src/report/html.ts';
import type { RunResults } from '../../src/report/results.ts';
import { funnelRow, loadFixture } from './fixtures.ts';

const HOSTILE = '<script>alert(1)</script>';

function embeddedJson(htmlText: string): unknown {
  const m = /<script type="application\/json" id="results-json">([\s\S]*?)<\/script>/.exec(htmlText);
  if (!m) throw new Error('no embedded results');
  return JSON.parse(m[1]);
}

describe('renderHtml: passing run', () => {
  const r = loadFixture('run-pass');
  const out = renderHtml(r);

  it('leads with a PASS verdict and no loss or capture warning', () => {
    expect(out).toMatch(/data-testid="verdict" data-verdict="pass"/);
    expect(out).toContain('<div class="verdict-badge" data-testid="verdict-text">PASS</div>');
    expect(out).toContain('All 9 checks passed.');
    expect(out).toContain('1,000 of 1,000 probes delivered — 100.0 %');
    expect(out).not.toContain('data-testid="faulty-segment"');
    expect(out).not.toContain('data-testid="capture-loss-warning"');
  });

  it('renders the funnel in chain order with its numbers', () => {
    const order = [...out.matchAll(/data-testid="funnel-row" data-point="([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(['ingress', 'decap', 'nat', 'wire', 'delivered']);
    expect(funnelRow(out, 'wire')).toMatchObject({
      seen: '1,000',
      lostHere: '0',
      packets: '4,000',
      foreign: '6',
    });
  });

  it('shows percentiles in µs and embeds the results document', () => {
    expect(out).toMatch(
      /<tr data-testid="latency-row" data-series="e2e">[\s\S]*?<td class="num">67\.5 µs<\/td>/,
    );
    expect(embeddedJson(out)).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('is self-contained: no external script, stylesheet, image or source map', () => {
    expect(out).not.toMatch(/<script[^>]+src=/i);
    expect(out).not.toMatch(/<link\b/i);
    expect(out).not.toMatch(/<img\b/i);
    expect(out).not.toContain('sourceMappingURL');
    expect(out).toContain('Chart.js v4'); // the inlined UMD banner
  });

  it('writes DIR/index.html or a named file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-report-'));
    const p = writeHtmlReport(r, join(dir, 'nested'));
    expect(p).toBe(join(dir, 'nested', 'index.html'));
    expect(readFileSync(p, 'utf8')).toBe(out);
    expect(existsSync(writeHtmlReport(r, dir, 'run-4711.html'))).toBe(true);
  });
});

describe('renderHtml: failing run', () => {
  const r = loadFixture('run-fail');
  const out = renderHtml(r);

  it('leads with FAIL, the failing checks and where probes were lost', () => {
    const verdictAt = out.indexOf('data-testid="verdict"');
    expect(verdictAt).toBeGreaterThan(0);
    expect(out).toContain('data-testid="verdict-text">FAIL</div>');
    const failing = [...out.matchAll(/<li data-check="([^"]+)">/g)].map((m) => m[1]);
    expect(failing).toEqual(['delivery', 'source IP preserved', 'captures complete']);
    const rows = [
      ...out.matchAll(/data-testid="check-row" data-check="([^"]+)" data-pass="(true|false)"/g),
    ].map((m) => `${m[1]}:${m[2]}`);
    expect(rows).toEqual(r.checks.map((c) => `${c.name}:${c.pass}`));
    const seg = /<p class="segment" data-testid="faulty-segment">([\s\S]*?)<\/p>/
      .exec(out)?.[1]
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ');
    expect(seg).toBe(
      'Probes were lost between nat (hop security) and wire (hop destination): 371 probes were last seen at nat and never reached wire. Faulty hop: security.',
    );
    expect(out).toContain('620 of 1,000 probes delivered — 62.0 %');
  });

  it('sections come in the agreed order', () => {
    const at = [
      'id="verdict"',
      'id="funnel"',
      'id="latency"',
      'id="timeline"',
      'id="violations"',
      'id="metadata"',
    ].map((s) => out.indexOf(s));
    expect(at.every((x) => x > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('marks the faulty and the capture-dropping funnel rows', () => {
    expect(funnelRow(out, 'wire')).toMatchObject({
      seen: '627',
      lostHere: '371',
      packets: '2,508',
      foreign: '11',
      seenPercent: '62.7 %',
    });
    expect(funnelRow(out, 'decap')).toMatchObject({ seen: '995', lostHere: '2' });
    expect(out).toMatch(/data-point="wire" class="faulty"/);
    expect(out).toMatch(/data-point="decap" class="flagged"/);
  });

  it('warns that capture loss is not chain loss, naming the capture', () => {
    const banner =
      /<div class="banner warn"[^>]*data-testid="capture-loss-warning">([\s\S]*?)<\/div>/.exec(out)?.[1] ??
      '';
    expect(banner).toContain('Capture loss is not chain loss.');
    expect(banner).toContain('<b>decap</b> (3 dropped by kernel)');
    expect(out).toMatch(/data-capture="decap" class="flagged"/);
  });

  it('says "too few samples" where a percentile is null', () => {
    const row = /<tr data-testid="latency-row" data-series="2">([\s\S]*?)<\/tr>/.exec(out)?.[1] ?? '';
    expect(row).toContain('nat → wire');
    expect(row).toContain('too few samples');
    expect(row).toContain('627 samples: too few for p99.9');
  });

  it('decodes violation examples one line per layer', () => {
    const examples = [
      ...out.matchAll(
        /<article class="example" data-testid="violation-example" data-kind="sourceIp">([\s\S]*?)<\/article>/g,
      ),
    ];
    expect(examples).toHaveLength(3);
    const lines = [...examples[0][1].matchAll(/<span class="layer">([^<]*)<\/span>/g)].map((m) => m[1]);
    expect(lines).toEqual(
      r.sourceIp.examples[0].layers.map((l) => l.replace(/&/g, '&amp;').replace(/>/g, '&gt;')),
    );
    expect(examples[0][1]).toContain('probe flow 3 seq 117</b> at capture point <b>nat</b>');
  });
});

/** A results document with fields the schema does not have, as a hand-edited or future document might. */
interface Planted {
  esp: Record<string, unknown>;
  run: Record<string, unknown>;
  sourceIp: { examples: Record<string, unknown>[] };
}

describe('renderHtml: hostile and secret content', () => {
  function hostile(): RunResults {
    const r = loadFixture('run-fail');
    r.sourceIp.examples[0].reason = HOSTILE;
    r.sourceIp.examples[1].layers[1] = `IPv4 ${HOSTILE}`;
    r.hops[3].name = '"><img src=x onerror=alert(2)>';
    r.run.profile = '</script><script>alert(3)</script>';
    r.checks[0].detail = `lost ${HOSTILE}`;
    return r;
  }

  it('escapes every string from the results, in markup and in the embedded JSON', () => {
    const r = hostile();
    const out = renderHtml(r);
    expect(out).not.toContain(HOSTILE);
    expect(out).not.toContain('<img src=x');
    expect(out).not.toContain('alert(3)</script>');
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('data-point="&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"');
    // exactly our three script elements: results JSON, Chart.js, chart script
    expect(out.match(/<script\b/gi)).toHaveLength(3);
    expect(embeddedJson(out)).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('never renders a property that looks like key material', () => {
    const r = loadFixture('run-fail') as unknown as Planted;
    const planted = [
      '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      'deadbeefdeadbeefdeadbeefdeadbeef',
      'hunter2-psk',
    ];
    r.esp.key = planted[0];
    r.esp.sa = { spi: 1000, encryptionKey: planted[1] };
    r.run.psk = planted[3];
    r.sourceIp.examples[0].secret = planted[2];
    const out = renderHtml(r as unknown as RunResults);
    for (const p of planted) expect(out).not.toContain(p);
    expect(out).toContain('"spi":1000'); // the harmless sibling survives
  });
});
