/**
 * `chainprobe craft --traffic`: the pcap opens in tcpdump and tshark (no malformed packet, no expert
 * warning), and nfcapd/sfcapd decode every datagram of it when its UDP payloads are replayed over loopback
 * from the exporters' own addresses. Bad mixes exit 2 with a message naming the bad part.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { startCollector } from '../../src/collector/collector.ts';
import { readPacketsSync } from '../../src/pcap/reader.ts';
import { sendUdpPackets } from '../collector/send.ts';
import { tsharkFields } from '../helpers/oracle-tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'chainprobe-craft-traffic-'));
const cli = (args: string[]) =>
  execa('node', ['bin/chainprobe.js', 'craft', ...args], { reject: false, timeout: 60_000 });

describe('craft --traffic', () => {
  test('writes a mix that tcpdump, tshark and the real collectors accept', async () => {
    const out = join(dir, 'mix.pcap');
    const r = await cli([
      '--traffic',
      'netflow-v9:50,ipfix:30,sflow:20',
      '--exporters',
      '3',
      '--count',
      '300',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/wrote 300 datagrams .* from 9 exporters/);
    const td = await execa('tcpdump', ['-nr', out]);
    expect(td.stdout.split('\n')).toHaveLength(300);
    const bad = await tsharkFields(
      out,
      ['frame.number'],
      [
        '-d',
        'udp.port==2055,cflow',
        '-d',
        'udp.port==6343,sflow',
        '-Y',
        '_ws.malformed || _ws.expert.severity >= 0x600000',
      ],
    );
    expect(bad).toEqual([]);

    const base = 23000 + (process.pid % 500);
    const nf = await startCollector({
      kind: 'nfcapd',
      address: '127.0.0.1',
      port: base,
      dir: join(dir, 'nf'),
    });
    const sf = await startCollector({
      kind: 'sfcapd',
      address: '127.0.0.1',
      port: base + 1,
      dir: join(dir, 'sf'),
    });
    try {
      const ips = [...readPacketsSync(new Uint8Array(readFileSync(out)))].map((p) => p.data.subarray(14));
      const byPort = { nf: 0, sf: 0 };
      await sendUdpPackets(ips, (ip) => {
        const sflow = ((ip[22] << 8) | ip[23]) === 6343;
        byPort[sflow ? 'sf' : 'nf']++;
        return sflow ? base + 1 : base;
      });
      await new Promise((res) => setTimeout(res, 300));
      const [n, s] = [await nf.stop(), await sf.stop()];
      expect(byPort.nf + byPort.sf).toBe(300);
      expect(byPort).toEqual({ nf: 240, sf: 60 }); // 50:30:20
      expect(n).toMatchObject({ flows: 240 * 10, sequenceFailures: 0 });
      expect(s.flows).toBe(60 * 4);
      expect(n.exporters).toHaveLength(6);
      expect(s.exporters).toHaveLength(3);
    } finally {
      await nf.stop().catch(() => {});
      await sf.stop().catch(() => {});
    }
  }, 120_000);

  test('a bad mix is exit code 2 naming what was wrong, no stack trace', async () => {
    const r = await cli(['--traffic', 'netflow-v9:50,netflow-v7:3', '--out', join(dir, 'x.pcap')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/traffic mix "netflow-v7:3": expected KIND\[:WEIGHT\]/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
