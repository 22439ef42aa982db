/**
 * Ctrl-C during a run against the reference chain: injection stops, and the report of what was captured
 * is still written, marked interrupted; nothing the run started is left behind. SIGINT goes to the whole
 * process group, as a terminal's Ctrl-C does (tcpdump and the sender get it too).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chainDown, chainUp, defaultProfile } from '../../src/drivers/refchain/index.ts';
import type { RunResults } from '../../src/report/results.ts';

const profile = defaultProfile();
const dir = mkdtempSync(join(tmpdir(), 'cp-sigint-'));
const BIN = new URL('../../bin/chainprobe.js', import.meta.url).pathname;

beforeAll(async () => {
  await chainUp({ profile });
}, 60_000);
afterAll(async () => {
  await chainDown({ profile });
  rmSync(dir, { recursive: true, force: true });
});

const namespaces = async () => (await execa('ip', ['netns', 'list'])).stdout.split('\n').sort();

describe('SIGINT during a run', () => {
  test('stops injecting, writes a partial report marked interrupted, leaves no process behind', async () => {
    const nsBefore = await namespaces();
    const report = join(dir, 'report');
    const count = 60_000; // a minute at 1 000 pps: the interrupt comes long before the end
    const child = execa(
      'node',
      [
        BIN,
        'run',
        '--profile',
        'fixtures/reference.json',
        '--count',
        String(count),
        '--pps',
        '1000',
        '--size',
        '100,8000',
        '--report',
        report,
      ],
      { detached: true, reject: false, all: true },
    );
    let out = '';
    child.all?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // wait for injection to run (the first progress line comes after ~1 s), then another second
    const started = Date.now();
    while (!/sent \d+\/\d+/.test(out)) {
      if (Date.now() - started > 180_000) throw new Error(`run did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-child.pid!, 'SIGINT'); // the whole group, like Ctrl-C in a terminal
    const res = await child;
    // interrupted runs fail their verdict (they did not do what was asked): exit 1, never a crash
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).not.toMatch(/\n\s+at .*\.ts:\d+/); // no stack trace
    const r = JSON.parse(readFileSync(join(report, 'results.json'), 'utf8')) as RunResults;
    expect(r.run.interrupted?.reason).toMatch(/SIGINT/);
    expect(r.checks.find((c) => c.name === 'run complete')?.status).toBe('fail');
    expect(r.sent).toBeGreaterThan(200);
    expect(r.sent).toBeLessThan(count / 4);
    expect(r.hops[0].seen).toBeGreaterThan(200);
    expect(r.delivered).toBeGreaterThan(0);
    expect(existsSync(join(report, 'index.html'))).toBe(true);
    expect(readFileSync(join(report, 'index.html'), 'utf8')).toContain('data-testid="interrupted"');
    // nothing of the run's process group is left (tcpdump, the sender, ip netns exec)
    const left = await execa('pgrep', ['-g', String(child.pid)], { reject: false });
    expect(left.stdout.trim()).toBe('');
    expect(await namespaces()).toEqual(nsBefore);
  }, 300_000);
});
