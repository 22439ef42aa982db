/**
 * pmacct's collectors (Debian's nfacctd and sfacctd) receive our generated export over loopback: every flow
 * decoded, every exporter seen under its own address and id, no sequence failure on an unbroken stream —
 * and datagrams of one exporter dropped on purpose are a gap they report, for NetFlow v9, IPFIX and sFlow
 * (sfcapd cannot: it does not check sFlow sequence numbers). Stopped by SIGINT; nothing survives the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startCollector } from '../../src/collector/collector.ts';
import { collectorFamily, collectorFor } from '../../src/collector/kinds.ts';
import { createFlowMixSource } from '../../src/traffic/mix.ts';
import { liveProcesses } from '../../src/transport/registry.ts';
import { sendOverLoopback } from './send.ts';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'chainprobe-pmacct-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Ports unlikely to collide with other helpers' runs on this machine (collector.test.ts uses 21000..23500).
const port = (base: number) => base + (process.pid % 500);

const mix = (kinds: string, base: string) =>
  createFlowMixSource({
    mix: kinds,
    exporters: 2,
    exporterBaseIp: base,
    dstIp: '127.0.0.1',
    startMs: Date.now(),
  });

const ids = (v: { exporters: { ip: string; id: number }[] }) =>
  v.exporters.map((e) => `${e.ip}/${e.id}`).sort();

describe('nfacctd', () => {
  test('decodes every NetFlow v5/v9 and IPFIX flow, sees each exporter with its id, logs no sequence failure', async () => {
    const p = port(24000);
    const c = await startCollector({ kind: 'nfacctd', address: '127.0.0.1', port: p, dir: freshDir() });
    const sent = await sendOverLoopback(mix('netflow-v5:1,netflow-v9:1,ipfix:1', '127.0.0.30'), 600, p);
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    expect(sent).toBe(600);
    expect(view).toMatchObject({ collector: 'nfacctd', flows: 600 * 10, sequenceFailures: 0, badPackets: 0 });
    expect(view.packets).toBeGreaterThan(0);
    expect(ids(view)).toEqual(
      [
        '127.0.0.30/0',
        '127.0.0.31/1',
        '127.0.0.32/2304',
        '127.0.0.33/2305',
        '127.0.0.34/4096',
        '127.0.0.35/4097',
      ].sort(),
    );
    expect(liveProcesses().filter((d) => d.includes('nfacctd'))).toEqual([]);
  }, 60_000);

  test.each(['netflow-v9', 'ipfix'])(
    'datagrams of one %s exporter dropped: a sequence failure',
    async (kind) => {
      const p = port(kind === 'ipfix' ? 25000 : 24500);
      const c = await startCollector({ kind: 'nfacctd', address: '127.0.0.1', port: p, dir: freshDir() });
      // frames 100, 102, 104 are the first exporter's datagrams 50..52: one gap
      const sent = await sendOverLoopback(
        mix(kind, '127.0.0.40'),
        200,
        p,
        (i) => i >= 100 && i <= 105 && i % 2 === 0,
      );
      await new Promise((r) => setTimeout(r, 300));
      const view = await c.stop();
      expect(sent).toBe(197);
      expect(view.flows).toBe(197 * 10);
      expect(view.sequenceFailures).toBe(1);
      expect(c.output()).toMatch(/expecting flow '\d+' but received '\d+' .*agent=127\.0\.0\.40:/);
    },
    60_000,
  );

  test('garbage datagrams are bad packets', async () => {
    const p = port(25500);
    const c = await startCollector({ kind: 'nfacctd', address: '127.0.0.1', port: p, dir: freshDir() });
    const { sendUdpPackets } = await import('./send.ts');
    const junk = new Uint8Array(28 + 12);
    junk.set([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 50, 127, 0, 0, 1]);
    junk.set([0xee, 0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 28);
    await sendUdpPackets([junk, junk], () => p);
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    expect(view).toMatchObject({ flows: 0, badPackets: 2, sequenceFailures: 0, exporters: [] });
  }, 60_000);
});

describe('sfacctd', () => {
  test('decodes every sFlow flow sample (scaled by the sampling rate), sees each agent, no gap', async () => {
    const p = port(26000);
    const c = await startCollector({ kind: 'sfacctd', address: '127.0.0.1', port: p, dir: freshDir() });
    await sendOverLoopback(mix('sflow', '127.0.0.50'), 300, p);
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    expect(view).toMatchObject({
      collector: 'sfacctd',
      flows: 300 * 4,
      packets: 300 * 4 * 1000,
      sequenceFailures: 0,
      badPackets: 0,
    });
    expect(ids(view)).toEqual(['127.0.0.50/0', '127.0.0.51/1']);
  }, 60_000);

  test('datagrams of one sFlow agent dropped: a sequence failure (sfcapd reports none)', async () => {
    const p = port(26500);
    const c = await startCollector({ kind: 'sfacctd', address: '127.0.0.1', port: p, dir: freshDir() });
    const sent = await sendOverLoopback(
      mix('sflow', '127.0.0.60'),
      300,
      p,
      (i) => i >= 100 && i <= 105 && i % 2 === 0,
    );
    await new Promise((r) => setTimeout(r, 300));
    const view = await c.stop();
    expect(sent).toBe(297);
    expect(view.flows).toBe(297 * 4);
    expect(view.sequenceFailures).toBe(1);
  }, 60_000);
});

describe('families', () => {
  test('each family has one collector per payload kind; an unknown family is bad input', () => {
    expect(collectorFamily('pmacct').map((k) => k.name)).toEqual(['nfacctd', 'sfacctd']);
    expect(collectorFamily('nfdump').map((k) => k.name)).toEqual(['nfcapd', 'sfcapd']);
    expect(collectorFor('ipfix', 'pmacct')?.name).toBe('nfacctd');
    expect(collectorFor('sflow')?.name).toBe('sfcapd');
    expect(() => collectorFamily('bogus')).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', badInput: true }),
    );
  });

  test('a bind failure is a typed error, not a hang', async () => {
    await expect(
      startCollector({ kind: 'sfacctd', address: '192.0.2.1', port: port(27000), dir: freshDir() }),
    ).rejects.toMatchObject({ code: 'E_CHAIN' });
  }, 30_000);
});
