/**
 * Real collectors (Debian's nfcapd and sfcapd) receive our generated export over loopback: every flow
 * decoded, every exporter recognised with its identity, no sequence failure — and a gap we make on
 * purpose is one they do report. Stopped by SIGINT; nothing survives the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startCollector } from '../../src/collector/collector.ts';
import { readNfdumpFlows } from '../../src/collector/nfdump.ts';
import { createFlowMixSource } from '../../src/traffic/mix.ts';
import { liveProcesses } from '../../src/transport/registry.ts';
import { sendOverLoopback } from './send.ts';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'chainprobe-collector-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Ports unlikely to collide with other helpers' runs on this machine.
const port = (base: number) => base + (process.pid % 500);

const mix = (kinds: string, base = '127.0.0.10') =>
  createFlowMixSource({
    mix: kinds,
    exporters: 2,
    exporterBaseIp: base,
    dstIp: '127.0.0.1',
    startMs: Date.now(),
  });

describe('nfcapd', () => {
  test('decodes every NetFlow v5/v9 and IPFIX flow, knows each exporter, logs no sequence failure', async () => {
    const p = port(21000);
    const c = await startCollector({ kind: 'nfcapd', address: '127.0.0.1', port: p, dir: freshDir() });
    const sent = await sendOverLoopback(mix('netflow-v5:1,netflow-v9:1,ipfix:1'), 600, p);
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    expect(sent).toBe(600);
    expect(view).toMatchObject({ collector: 'nfcapd', flows: 600 * 10, sequenceFailures: 0, badPackets: 0 });
    expect(view.exporters.map((e) => `${e.ip}/${e.id}`).sort()).toEqual(
      [
        '127.0.0.10/0',
        '127.0.0.11/1',
        '127.0.0.12/2304',
        '127.0.0.13/2305',
        '127.0.0.14/4096',
        '127.0.0.15/4097',
      ].sort(),
    );
    const flows = await readNfdumpFlows(c.options.dir, 5);
    expect(flows).toHaveLength(5);
    expect(flows[0]).toMatchObject({ type: 'FLOW', ip4_router: '127.0.0.10' });
    expect(String(flows[0].src4_addr)).toMatch(/^(192\.0\.2|198\.51\.100|203\.0\.113)\./);
    expect(liveProcesses().filter((d) => d.includes('nfcapd'))).toEqual([]);
  }, 60_000);

  test('a gap in one v9 exporter is a sequence failure the collector reports', async () => {
    const p = port(21600);
    const c = await startCollector({ kind: 'nfcapd', address: '127.0.0.1', port: p, dir: freshDir() });
    // Drop v9 packets 50..52 of the first exporter (source id 2304): one gap event.
    const sent = await sendOverLoopback(
      mix('netflow-v9'),
      200,
      p,
      (i) => i >= 100 && i <= 105 && i % 2 === 0,
    );
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    expect(sent).toBe(197);
    expect(view.flows).toBe(197 * 10);
    expect(view.sequenceFailures).toBe(1);
  }, 60_000);
});

describe('sfcapd', () => {
  test('decodes every sFlow flow sample (scaled by the sampling rate); no sequence checks', async () => {
    const p = port(22300);
    const c = await startCollector({ kind: 'sfcapd', address: '127.0.0.1', port: p, dir: freshDir() });
    await sendOverLoopback(mix('sflow', '127.0.0.20'), 300, p);
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    expect(view).toMatchObject({
      collector: 'sfcapd',
      flows: 300 * 4,
      packets: 300 * 4 * 1000,
      sequenceFailures: null,
    });
    expect(view.exporters.map((e) => e.ip).sort()).toEqual(['127.0.0.20', '127.0.0.21']);
  }, 60_000);
});

describe('bad input', () => {
  test('unknown collector, bad port, unwritable directory: typed errors', async () => {
    await expect(
      startCollector({ kind: 'bogus', address: '127.0.0.1', port: 1, dir: freshDir() }),
    ).rejects.toMatchObject({
      code: 'E_CONFIG',
      badInput: true,
    });
    await expect(
      startCollector({ kind: 'nfcapd', address: '127.0.0.1', port: 70000, dir: freshDir() }),
    ).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
    await expect(
      startCollector({ kind: 'nfcapd', address: '192.0.2.1', port: port(23000), dir: freshDir() }),
    ).rejects.toMatchObject({
      code: 'E_CHAIN',
    });
  }, 30_000);
});
