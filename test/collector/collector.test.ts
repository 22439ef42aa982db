/**
 * Real collectors receive our generated export over loopback. nfdump family (Debian's nfcapd and sfcapd):
 * every flow decoded, every exporter recognised with its identity, no sequence failure. And for every
 * collector kind, a gap made on purpose (three datagrams of one exporter) is one it reports — except
 * sfcapd, which does not check sFlow sequence numbers. Stopped by SIGINT; nothing survives the test.
 * pmacct's own decode tests: pmacct.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startCollector } from '../../src/collector/collector.ts';
import { readNfdumpFlows } from '../../src/collector/nfdump.ts';
import { liveProcesses } from '../../src/transport/registry.ts';
import { collectOverLoopback, DROP_ONE_GAP } from './send.ts';

describe('nfcapd', () => {
  test('decodes every NetFlow v5/v9 and IPFIX flow, knows each exporter, logs no sequence failure', async () => {
    const { sent, view, dir } = await collectOverLoopback({
      kind: 'nfcapd',
      mix: 'netflow-v5:1,netflow-v9:1,ipfix:1',
      exporterBaseIp: '127.0.0.10',
      count: 600,
      portBase: 21000,
      keepDir: true,
    });
    const flows = await readNfdumpFlows(dir, 5).finally(() => rmSync(dir, { recursive: true, force: true }));
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
    expect(flows).toHaveLength(5);
    expect(flows[0]).toMatchObject({ type: 'FLOW', ip4_router: '127.0.0.10' });
    expect(String(flows[0].src4_addr)).toMatch(/^(192\.0\.2|198\.51\.100|203\.0\.113)\./);
    expect(liveProcesses().filter((d) => d.includes('nfcapd'))).toEqual([]);
  }, 60_000);
});

describe('sfcapd', () => {
  test('decodes every sFlow flow sample (scaled by the sampling rate); no sequence checks', async () => {
    const { view } = await collectOverLoopback({
      kind: 'sfcapd',
      mix: 'sflow',
      exporterBaseIp: '127.0.0.20',
      count: 300,
      portBase: 22300,
    });
    expect(view).toMatchObject({
      collector: 'sfcapd',
      flows: 300 * 4,
      packets: 300 * 4 * 1000,
      sequenceFailures: null,
    });
    expect(view.exporters.map((e) => e.ip).sort()).toEqual(['127.0.0.20', '127.0.0.21']);
  }, 60_000);
});

describe('a gap in one exporter (its datagrams 50..52 dropped on purpose)', () => {
  // [collector, payload kind, flows per datagram, gap events it reports (null: it does not check)]
  test.each([
    ['nfcapd', 'netflow-v9', 10, 1],
    ['nfacctd', 'netflow-v9', 10, 1],
    ['nfacctd', 'ipfix', 10, 1],
    ['sfacctd', 'sflow', 4, 1],
    ['sfcapd', 'sflow', 4, null],
  ] as const)(
    '%s, %s (%i flows a datagram): sequence failures %s',
    async (kind, mix, flowsPerDatagram, failures) => {
      const { sent, view } = await collectOverLoopback({
        kind,
        mix,
        exporterBaseIp: '127.0.0.40',
        count: 200,
        portBase: { nfcapd: 21600, nfacctd: mix === 'ipfix' ? 24500 : 24000, sfacctd: 25000, sfcapd: 25500 }[
          kind
        ],
        skip: DROP_ONE_GAP,
      });
      expect(sent).toBe(197);
      expect(view.flows).toBe(197 * flowsPerDatagram);
      expect(view.sequenceFailures).toBe(failures);
    },
    60_000,
  );
});

describe('bad input', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'chainprobe-collector-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const port = 23000 + (process.pid % 500);

  test.each(['nfcapd', 'sfacctd'])(
    'unknown collector, bad port, an address not on this host (%s): typed errors',
    async (kind) => {
      await expect(
        startCollector({ kind: 'bogus', address: '127.0.0.1', port: 1, dir: freshDir() }),
      ).rejects.toMatchObject({ code: 'E_CONFIG', badInput: true });
      await expect(
        startCollector({ kind, address: '127.0.0.1', port: 70000, dir: freshDir() }),
      ).rejects.toMatchObject({ code: 'E_CONFIG' });
      await expect(
        startCollector({ kind, address: '192.0.2.1', port, dir: freshDir() }),
      ).rejects.toMatchObject({ code: 'E_CHAIN' });
    },
    30_000,
  );
});
