/**
 * `--replay` through the reference chain: a capture scapy built (NetFlow v9 to 2055 from two devices that
 * share source id and sequence numbers, some of it VXLAN-mirrored; sFlow to 6343; arbitrary payloads to
 * 2055, some larger than the chain's 1400-byte link; identical copies of one payload) replayed at
 * 1 000 pps in the profile's VXLAN through decap, DNAT, ESP and fragmentation, followed by payload
 * fingerprint at every capture point. Asserts what the analysis says: every distinct payload followed
 * (identical ones counted as duplicates of one datagram, the two devices' datagrams never paired),
 * delivery, source preservation, NAT, ESP and fragmentation judged. Then the same capture through the CLI
 * (`chainprobe run --replay FILE --exporters 2`, in process: the chain fixture's lock is re-entrant there).
 * Run under the lab lock.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { run } from '../../src/cli/commands/run.ts';
import type { RunResults } from '../../src/report/results.ts';
import { runChain } from '../../src/run/run.ts';
import { resolveRuntimeKeys } from '../../src/run/runtime-keys.ts';
import { readCapturePayloads } from '../../src/traffic/capture-payloads.ts';
import { chainTest } from '../../src/vitest/fixtures.ts';
import { writeLiveCapture } from './replay-scapy.ts';

const dir = mkdtempSync(join(tmpdir(), 'chainprobe-replay-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 2_000;
const IDENTICAL = 5;

describe('a replayed capture through the reference chain', () => {
  chainTest(
    `${N} scapy-built datagrams (NetFlow v9, sFlow, arbitrary, ${IDENTICAL} identical) at 1 000 pps`,
    async ({ chain }) => {
      const { profile, driver } = chain;
      const file = join(dir, 'capture.pcap');
      const kinds = await writeLiveCapture(file, N, IDENTICAL);
      const replay = await readCapturePayloads(file);
      expect(replay.payloads).toBe(N);
      expect(replay.lanes.map((l) => [l.port, l.payloads.length])).toEqual([
        [2055, kinds.netflow + kinds.other + IDENTICAL],
        [6343, kinds.sflow],
      ]);
      const { results, inject } = await runChain({
        profile,
        count: replay.payloads,
        pps: 1_000,
        payloadBytes: [100],
        traffic: { mix: 'replay', replay },
        driver,
        runtimeKeys: await resolveRuntimeKeys(profile, [], driver),
        captureDir: join(dir, 'run'),
        keepCaptures: 'on-failure',
      });
      const check = (name: string) => results.checks.find((c) => c.name === name);
      console.log(
        `replay ${N} at 1 kpps: sent ${inject.sent}, followed ${results.sent}, delivered ${results.delivered} (${(100 * results.deliveryRatio).toFixed(2)} %), duplicates ${results.duplicates}, per hop ${results.hops.map((h) => `${h.name} ${h.seen}/${h.packets} (foreign ${h.foreign})`).join(', ')}, reassembled ${results.fragmentation.reassembled}, e2e p50 ${((results.latency.e2e.p50Ns ?? 0) / 1e6).toFixed(2)} ms; checks ${results.checks.map((c) => `${c.name}: ${c.status}${c.status === 'fail' ? ` (${c.detail})` : ''}`).join('; ')}`,
      );
      expect(inject.sent).toBe(N);
      // identical payloads are one datagram (the rest of them duplicates): N − (IDENTICAL − 1) followed,
      // none lost before the first point for it; the two NetFlow devices' datagrams (same source id,
      // sequence and length from one replay exporter) stay two each
      expect(results.sent).toBe(N - (IDENTICAL - 1));
      const first = results.hops[0];
      expect(first.seen).toBe(results.sent);
      expect(first.lostHere).toBe(0);
      expect(first.foreign).toBe(0);
      // the copies arrive as duplicates where the datagram arrived (the last point: counted there)
      // (a copy lost on the way leaves one duplicate fewer; a mis-paired datagram would add one)
      expect(results.duplicates).toBeGreaterThanOrEqual(1);
      expect(results.duplicates).toBeLessThanOrEqual(IDENTICAL - 1);
      // every point follows them by fingerprint: nothing of ours is left unidentified anywhere
      for (const h of results.hops) expect(h.foreign, h.name).toBe(0);
      expect(results.deliveryRatio).toBeGreaterThanOrEqual(0.9);
      // everything the probe path judges is judged for the replayed datagrams
      expect(check('source IP preserved')?.status).toBe('pass');
      expect(check('NAT rewrite')?.status).toBe('pass');
      expect(check('ESP')?.status).toBe('pass');
      expect(check('fragmentation')?.status).toBe('pass');
      expect(results.fragmentation.reassembled).toBeGreaterThan(0);
      expect(results.latency.e2e.samples).toBe(results.delivered);
      // the payloads kept their destination ports: NetFlow reached nfcapd, sFlow sfcapd, through the NAT;
      // the arbitrary payloads nfcapd cannot decode are the capture's, reported and not judged
      const c = results.collector!;
      console.log(
        `collectors: ${c.views.map((v) => `${v.collector} ${v.flows} flows, ${v.packets} packets, exporters ${v.exporters.map((e) => e.ip).join('/')}, bad ${v.badPackets}, socket drops ${v.socketDrops}`).join('; ')}`,
      );
      expect(check('collector agrees with delivery')?.status).toBe('pass');
      const nfcapd = c.views.find((v) => v.collector === 'nfcapd')!;
      const sfcapd = c.views.find((v) => v.collector === 'sfcapd')!;
      expect(nfcapd.flows).toBeGreaterThan(0);
      expect(sfcapd.flows).toBeGreaterThan(0);
      // one record (v9) / one flow sample (sFlow) per datagram: all delivered, every one decoded
      if (results.delivered === results.sent) {
        expect(nfcapd.flows).toBe(kinds.netflow);
        expect(sfcapd.flows).toBe(kinds.sflow);
      }
      expect(results.run.requested?.traffic).toEqual({
        mix: 'replay',
        replay: { file, payloads: N },
      });
    },
    180_000,
  );

  chainTest(
    'chainprobe run --replay FILE --exporters 2: once through by default, the results name the file',
    async () => {
      const file = join(dir, 'capture.pcap');
      const json = join(dir, 'cli.json');
      const report = join(dir, 'cli-report');
      const code = await run([
        '--replay',
        file,
        '--exporters',
        '2',
        '--json',
        json,
        '--report',
        report,
        '--keep-captures',
        'never',
      ]);
      const r = JSON.parse(readFileSync(json, 'utf8')) as RunResults;
      console.log(
        `cli replay: exit ${code}, sent ${r.sent}, delivered ${r.delivered}, duplicates ${r.duplicates}, requested ${JSON.stringify(r.run.requested)}`,
      );
      expect(r.run.requested).toMatchObject({
        count: N,
        traffic: { mix: 'replay', exporters: 2, replay: { file, payloads: N } },
      });
      expect(r.sent).toBe(N - (IDENTICAL - 1));
      expect(r.deliveryRatio).toBeGreaterThanOrEqual(0.9);
      expect(code).toBe(r.verdict === 'pass' ? 0 : 1);
      expect(readFileSync(join(report, 'index.html'), 'utf8')).toContain(
        `replay of ${file} (2,000 UDP payloads), 2 exporters per port`,
      );
    },
    180_000,
  );
});
