/**
 * pmacct's collectors (Debian's nfacctd and sfacctd) receive our generated export over loopback: every flow
 * decoded, every exporter seen under its own address and id, no sequence failure on an unbroken stream,
 * undecodable datagrams counted. (Gaps made on purpose, for every collector kind: collector.test.ts.)
 */
import { describe, expect, test } from 'vitest';
import { collectorFamily, collectorFor } from '../../src/collector/kinds.ts';
import { liveProcesses } from '../../src/transport/registry.ts';
import { collectOverLoopback } from './send.ts';

const ids = (v: { exporters: { ip: string; id: number }[] }) =>
  v.exporters.map((e) => `${e.ip}/${e.id}`).sort();

describe('nfacctd', () => {
  test('decodes every NetFlow v5/v9 and IPFIX flow, sees each exporter with its id, logs no sequence failure', async () => {
    const { sent, view } = await collectOverLoopback({
      kind: 'nfacctd',
      mix: 'netflow-v5:1,netflow-v9:1,ipfix:1',
      exporterBaseIp: '127.0.0.30',
      count: 600,
      portBase: 26000,
    });
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

  test('datagrams that are not NetFlow/IPFIX are bad packets, not flows', async () => {
    // the mix's sFlow datagrams sent to nfacctd: version 5 header, nothing it can read as NetFlow v5
    const { view, log } = await collectOverLoopback({
      kind: 'nfacctd',
      mix: 'sflow',
      exporterBaseIp: '127.0.0.36',
      count: 4,
      portBase: 26500,
    });
    expect(view.flows).toBe(0);
    expect(view.badPackets, log).toBeGreaterThan(0);
  }, 60_000);
});

describe('sfacctd', () => {
  test('decodes every sFlow flow sample (scaled by the sampling rate), sees each agent, no gap', async () => {
    const { view } = await collectOverLoopback({
      kind: 'sfacctd',
      mix: 'sflow',
      exporterBaseIp: '127.0.0.50',
      count: 300,
      portBase: 27000,
    });
    expect(view).toMatchObject({
      collector: 'sfacctd',
      flows: 300 * 4,
      packets: 300 * 4 * 1000,
      sequenceFailures: 0,
      badPackets: 0,
    });
    expect(ids(view)).toEqual(['127.0.0.50/0', '127.0.0.51/1']);
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
});
