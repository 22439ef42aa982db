/**
 * The report in a real browser (Debian chromium via playwright-core): what a person opening the CI
 * artifact sees. Needs /usr/bin/chromium; set CHAINPROBE_SKIP_BROWSER=1 to skip on machines without it
 * (otherwise a missing browser fails the test rather than passing silently).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/report/html.ts';
import { writeIndex } from '../../src/report/index-page.ts';
import { collectorReadings, flowExportRun, loadFixture } from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = resolve(import.meta.dirname, '../../reports/report-test');
const skip = process.env.CHAINPROBE_SKIP_BROWSER === '1';

interface CanvasLike {
  id: string;
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): ArrayLike<CanvasLike> };
  Chart: { getChart(canvas: CanvasLike): ChartLike | undefined };
}

interface ChartLike {
  data: { datasets: { label: string; data: (number | null)[] }[] };
  scales: Record<string, unknown>;
}

interface PageFindings {
  requests: string[];
  errors: string[];
}

describe.skipIf(skip)('HTML report in chromium', () => {
  let ctx: BrowserContext;
  let profileDir: string;
  const pass = loadFixture('run-pass');
  const fail = loadFixture('run-fail');
  const soak = flowExportRun(collectorReadings());
  const files = { pass: '', fail: '', index: '', soak: '' };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found (apt-get install chromium, or CHAINPROBE_SKIP_BROWSER=1)`);
    files.pass = writeHtmlReport(pass, join(OUT, 'pass'));
    files.fail = writeHtmlReport(fail, join(OUT, 'fail'));
    files.soak = writeHtmlReport(soak, join(OUT, 'flow-export-soak'));
    files.index = writeIndex(OUT, [
      {
        title: 'reference · run 4711',
        href: 'pass/index.html',
        verdict: pass.verdict,
        deliveryRatio: pass.deliveryRatio,
      },
      {
        title: 'reference · run 4712',
        href: 'fail/index.html',
        verdict: fail.verdict,
        deliveryRatio: fail.deliveryRatio,
      },
    ]);
    profileDir = mkdtempSync(join(tmpdir(), 'cp-chromium-'));
    ctx = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await ctx?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  async function open(file: string) {
    const found: PageFindings = { requests: [], errors: [] };
    const page = await ctx.newPage();
    page.on('request', (req) => found.requests.push(req.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') found.errors.push(m.text());
    });
    page.on('pageerror', (e) => found.errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    return { page, found };
  }

  /** Every chart canvas: has a Chart.js instance, and drew something (a non-transparent pixel). */
  async function chartsDrawn(page: import('playwright-core').Page) {
    await page.waitForSelector('html[data-charts="ready"]');
    return page.evaluate(() => {
      // Runs in the page; typed structurally because the project's tsconfig has no DOM lib.
      const g = globalThis as unknown as PageGlobals;
      return Array.from(g.document.querySelectorAll('canvas[data-chart]')).map((c) => {
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
        return { id: c.id, chart: g.Chart.getChart(c) !== undefined, painted: painted > 100 };
      });
    });
  }

  it('failing run: verdict, lost segment, funnel numbers, charts, no errors, no network', async () => {
    const { page, found } = await open(files.fail);
    expect(await page.getByTestId('verdict-text').innerText()).toBe('FAIL');
    expect(await page.getByTestId('faulty-segment').innerText()).toContain(
      'Probes were lost between nat (hop security) and wire (hop destination)',
    );
    expect(await page.getByTestId('capture-loss-warning').innerText()).toContain(
      'Capture loss is not chain loss.',
    );
    const wire = page.locator('[data-testid="funnel-row"][data-point="wire"]');
    expect(await wire.locator('[data-col="seen"]').innerText()).toBe('627');
    expect(await wire.locator('[data-col="lostHere"]').innerText()).toBe('371');
    expect(await page.locator('[data-testid="failing-checks"] li').allInnerTexts()).toHaveLength(3);

    const charts = await chartsDrawn(page);
    expect(charts.map((c) => c.id)).toEqual([
      'chart-funnel',
      'chart-latency-cdf',
      'chart-hist-e2e',
      'chart-hist-0',
      'chart-hist-1',
      'chart-hist-2',
      'chart-hist-3',
      'chart-timeline',
    ]);
    for (const c of charts) expect(c, c.id).toEqual({ id: c.id, chart: true, painted: true });

    await page.screenshot({ path: join(OUT, '..', 'report-fail.png'), fullPage: true });
    expect(found.errors).toEqual([]);
    expect(found.requests).toEqual([pathToFileURL(files.fail).href]);
    await page.close();
  });

  it('passing run: PASS, funnel, charts, no errors, no network', async () => {
    const { page, found } = await open(files.pass);
    expect(await page.getByTestId('verdict-text').innerText()).toBe('PASS');
    expect(await page.getByTestId('all-checks-passed').innerText()).toBe('All 9 checks passed.');
    expect(await page.getByTestId('capture-loss-warning').count()).toBe(0);
    expect(await page.locator('[data-testid="funnel-row"] [data-col="seen"]').allInnerTexts()).toEqual([
      '1,000',
      '1,000',
      '1,000',
      '1,000',
      '1,000',
    ]);
    const charts = await chartsDrawn(page);
    expect(charts).toHaveLength(8);
    for (const c of charts) expect(c, c.id).toEqual({ id: c.id, chart: true, painted: true });
    await page.screenshot({ path: join(OUT, '..', 'report-pass.png'), fullPage: true });
    expect(found.errors).toEqual([]);
    expect(found.requests).toEqual([pathToFileURL(files.pass).href]);
    await page.close();
  });

  it('flow-export soak: collector table, delivery and p50/p99 latency per second drawn, no errors', async () => {
    const { page, found } = await open(files.soak);
    expect(await page.getByTestId('collector-check').innerText()).toMatch(
      /^collector agrees with delivery: ✔ pass/,
    );
    expect(await page.getByTestId('collector-row').count()).toBe(2);
    const charts = await chartsDrawn(page);
    expect(charts).toHaveLength(8);
    for (const c of charts) expect(c, c.id).toEqual({ id: c.id, chart: true, painted: true });
    const timeline = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      const chart = g.Chart.getChart(g.document.querySelectorAll('canvas[data-chart="timeline"]')[0])!;
      return {
        datasets: chart.data.datasets.map((d) => [d.label, d.data.length, d.data[150]]),
        scales: Object.keys(chart.scales).sort(),
      };
    });
    // the second that delivered nothing: 0 % delivered, no latency (a gap, not 0 µs)
    expect(timeline.datasets).toEqual([
      ['delivered (%)', 300, 0],
      ['e2e latency p99 (µs)', 300, null],
      ['e2e latency p50 (µs)', 300, null],
      ['datagrams sent', 300, 10_000],
    ]);
    expect(timeline.scales).toEqual(['count', 'latency', 'ratio', 'x']);
    await page.screenshot({ path: join(OUT, '..', 'report-flow-export-soak.png'), fullPage: true });
    expect(found.errors).toEqual([]);
    expect(found.requests).toEqual([pathToFileURL(files.soak).href]);
    await page.close();
  });

  it('index page links the runs, failures first', async () => {
    const { page, found } = await open(files.index);
    const rows = page.getByTestId('index-row');
    expect(await rows.allInnerTexts()).toEqual([
      'FAIL\treference · run 4712\t62.0 %\t—',
      'PASS\treference · run 4711\t100.0 %\t—',
    ]);
    await page.screenshot({ path: join(OUT, '..', 'report-index.png'), fullPage: true });
    await rows.first().getByRole('link').click();
    expect(await page.getByTestId('verdict-text').innerText()).toBe('FAIL');
    expect(found.errors).toEqual([]);
    expect(found.requests.every((u) => u.startsWith('file://'))).toBe(true);
    await page.close();
  });
});
