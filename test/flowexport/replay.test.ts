/**
 * `--replay FILE`'s reading of a capture (traffic/capture-payloads.ts) against scapy: what it keeps of each
 * packet — the innermost UDP payload, VXLAN-mirrored traffic decapsulated, with its destination port — is
 * what scapy's rdpcap reads, for pcap and pcapng, for a scapy-built mixed capture and for chainprobe's own
 * crafted flow mix; non-UDP packets and fragments are skipped and counted. The replay's frames (the
 * profile's VXLAN around an exporter's datagram) carry every payload exactly once to its original port, as
 * scapy reads them. And the CLI's bad input: exit 2 with a message naming what was wrong, before any chain
 * is touched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { ChainOracle } from '../../src/chain/oracle.ts';
import type { CollectorReading } from '../../src/collector/collector.ts';
import { defaultProfile } from '../../src/drivers/refchain/index.ts';
import { runIdentity } from '../../src/inject/plan.ts';
import { PcapWriter, readPacketsSync } from '../../src/pcap/index.ts';
import type { RunResults } from '../../src/report/results.ts';
import { collectorSection } from '../../src/run/collector-check.ts';
import { flowExportFrames, requestedTraffic } from '../../src/run/flow-frames.ts';
import {
  type CapturePayloads,
  describeCapturePayloads,
  readCapturePayloads,
} from '../../src/traffic/capture-payloads.ts';
import { tsharkFields } from '../helpers/oracle-tools.ts';
import { scapyPayloads, writeMixedCapture, writeUdpLessCapture } from './replay-scapy.ts';

const dir = mkdtempSync(join(tmpdir(), 'chainprobe-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ours in scapy's shape: [port, hex] per payload, grouped by port in first-appearance order. */
const byPort = (c: CapturePayloads) =>
  c.lanes.flatMap((l) => l.payloads.map((p) => [l.port, Buffer.from(p).toString('hex')]));
const groupedByPort = (list: [number, string][]) => {
  const ports = [...new Set(list.map(([p]) => p))];
  return ports.flatMap((port) => list.filter(([p]) => p === port));
};

describe('reading a capture into replayable payloads', () => {
  test('a mixed capture (pcap and pcapng): the innermost UDP payloads scapy reads, skips counted', async () => {
    const pcap = join(dir, 'mixed.pcap');
    const pcapng = join(dir, 'mixed.pcapng');
    const rawIp = join(dir, 'mixed-raw-ip.pcap');
    await writeMixedCapture(pcap, pcapng, rawIp);
    const expected = await scapyPayloads(pcap);
    // the scapy-built file holds what it should: 25 datagrams, 8 not UDP, a datagram in 3 fragments
    expect(expected.payloads).toHaveLength(25);
    expect(expected.skipped).toEqual({ 'not UDP': 8, fragments: 3 });
    for (const file of [pcap, pcapng]) {
      const c = await readCapturePayloads(file);
      expect(byPort(c)).toEqual(groupedByPort(expected.payloads));
      expect(c.lanes.map((l) => [l.port, l.payloads.length])).toEqual([
        [2055, 15],
        [6343, 5],
        [9995, 5],
      ]);
      expect(c).toMatchObject({
        packets: 36,
        payloads: 25,
        skipped: { 'not UDP': 8, fragments: 3, undecodable: 0 },
      });
      expect(describeCapturePayloads(c)).toBe(
        'replaying 25 UDP payloads of 36 packets; skipped 11: 8 not UDP, 3 fragments',
      );
    }
    // another linktype (raw IPv4, 101): the same payloads; the ARP packet is not in that file
    const raw = await readCapturePayloads(rawIp);
    expect((await scapyPayloads(rawIp)).payloads).toEqual(expected.payloads);
    expect(byPort(raw)).toEqual(groupedByPort(expected.payloads));
    expect(raw).toMatchObject({ packets: 35, skipped: { 'not UDP': 7, fragments: 3, undecodable: 0 } });
  });

  test("chainprobe's crafted flow mix: every datagram's payload, as scapy reads it", async () => {
    const out = join(dir, 'mix.pcap');
    const r = await execa('node', [
      'bin/chainprobe.js',
      'craft',
      '--traffic',
      'netflow-v9:50,ipfix:30,sflow:20',
      '--exporters',
      '2',
      '--count',
      '200',
      '--out',
      out,
    ]);
    expect(r.stdout).toMatch(/wrote 200 datagrams/);
    const expected = await scapyPayloads(out);
    expect(expected.payloads).toHaveLength(200);
    const c = await readCapturePayloads(out);
    expect(byPort(c)).toEqual(groupedByPort(expected.payloads));
    expect(c.lanes.map((l) => l.port)).toEqual([2055, 6343]);
    expect(describeCapturePayloads(c)).toBe('replaying 200 UDP payloads of 200 packets');
  });

  test('a frame cut short (snaplen) is skipped as undecodable, never a payload', async () => {
    const whole = join(dir, 'whole.pcap');
    await writeMixedCapture(whole, join(dir, 'whole.pcapng'));
    const [first] = readPacketsSync(new Uint8Array(readFileSync(whole)));
    const cut = join(dir, 'cut.pcap');
    const w = PcapWriter.toFile(cut, { precision: 'ns', linktype: 1 });
    w.write(first.data.subarray(0, 40), 1n); // Ethernet + IPv4 header + 6 bytes of UDP
    w.write(first.data, 2n);
    await w.close();
    const c = await readCapturePayloads(cut);
    expect(c).toMatchObject({ packets: 2, payloads: 1, skipped: { undecodable: 1 } });
    expect(describeCapturePayloads(c)).toBe(
      'replaying 1 UDP payloads of 2 packets; skipped 1: 1 undecodable',
    );
  });

  test('bad input: no UDP names the file (E_CONFIG); a broken file is the reader error', async () => {
    const none = join(dir, 'no-udp.pcap');
    await writeUdpLessCapture(none);
    await expect(readCapturePayloads(none)).rejects.toMatchObject({
      code: 'E_CONFIG',
      badInput: true,
      message: expect.stringContaining(
        `${none}: no UDP datagram to replay (replaying 0 UDP payloads of 2 packets; skipped 2: 2 not UDP)`,
      ),
    });
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'not a capture at all, just text');
    await expect(readCapturePayloads(junk)).rejects.toMatchObject({
      code: 'E_PCAP_MALFORMED',
      badInput: true,
    });
    await expect(readCapturePayloads(join(dir, 'missing.pcap'))).rejects.toMatchObject({
      code: 'E_PCAP_OPEN',
      badInput: true,
    });
  });
});

describe("a replay's frames", () => {
  test('every payload exactly once per pass, to its original port, from N exporters per port', async () => {
    const pcap = join(dir, 'frames-in.pcap');
    await writeMixedCapture(pcap, join(dir, 'frames-in.pcapng'));
    const replay = await readCapturePayloads(pcap);
    const frames = flowExportFrames(
      new ChainOracle(defaultProfile(), []),
      { mix: 'replay', exporters: 2, replay },
      runIdentity(77),
      'ethernet',
      1000,
    );
    // 3 ports × 2 exporters, each its own address of the inner prefix, sending to its lane's port
    expect(frames.exporters.map((e) => e.dstPort)).toEqual([2055, 2055, 6343, 6343, 9995, 9995]);
    expect(new Set(frames.exporters.map((e) => e.srcIp)).size).toBe(6);
    expect(frames.identifiers).toEqual(['fingerprint']);
    expect(frames.userPayloads).toBe(true);
    // the injectors sample frame 0 before sending: the pass that follows still sends every payload once
    frames.next(0);
    frames.next(0);
    const out = join(dir, 'frames-out.pcap');
    const w = PcapWriter.toFile(out, { precision: 'ns', linktype: 1 });
    for (let i = 0; i < 2 * replay.payloads; i++) w.write(frames.next(i), BigInt(i) * 1_000_000n);
    await w.close();
    const sent = await scapyPayloads(out);
    const original = await scapyPayloads(pcap);
    const sorted = (l: [number, string][]) => l.map(([p, h]) => `${p}:${h}`).sort();
    // two passes: each payload twice, to its original port
    expect(sorted(sent.payloads)).toEqual(sorted([...original.payloads, ...original.payloads]));
    expect(sorted(sent.payloads.slice(0, replay.payloads))).toEqual(sorted(original.payloads));
    // 25 payloads, two identical: 24 datagrams followed per pass; the second pass (within the 5 s window
    // at 1 000 pps) only repeats them
    expect(frames.journeys?.()).toBe(24);
    // at 5 pps the 25 payloads repeat a journey window (5 s) later: one datagram or two, the send jitter
    // decides — not counted (the first capture point's count stands)
    const slow = flowExportFrames(
      new ChainOracle(defaultProfile(), []),
      { mix: 'replay', replay },
      runIdentity(78),
      'ethernet',
      5,
    );
    for (let i = 0; i < replay.payloads; i++) slow.next(i);
    expect(slow.journeys?.()).toBe(24);
    for (let i = replay.payloads; i < 2 * replay.payloads; i++) slow.next(i);
    expect(slow.journeys?.()).toBeNull();
    expect(requestedTraffic({ mix: 'replay', exporters: 2, replay })).toEqual({
      mix: 'replay',
      exporters: 2,
      replay: { file: pcap, payloads: 25 },
    });
  });
});

describe("the collector check of a replay (the payloads are the user's)", () => {
  const results = () => ({ delivered: 100, sent: 100, checks: [], verdict: 'pass' }) as unknown as RunResults;
  const reading = (o: Partial<CollectorReading>): CollectorReading => ({
    collector: 'nfcapd',
    listen: '172.20.102.11:2055',
    flows: 0,
    packets: 0,
    bytes: 0,
    sequenceFailures: 0,
    badPackets: 40,
    socketDrops: 0,
    exporters: [],
    ...o,
  });
  const exporters = [{ srcIp: 0x0a0a0a06 }];

  test('undecodable payloads and unseen exporters are reported, not judged', () => {
    const r = results();
    collectorSection(r, [reading({})], exporters, { userPayloads: true });
    expect(r.checks[0]).toMatchObject({ status: 'pass', detail: expect.stringContaining('undecodable 40') });
    expect(r.collector?.exportersMissing).toEqual([]);
    // the same reading for chainprobe's own mix fails
    const own = results();
    collectorSection(own, [reading({})], exporters);
    expect(own.checks[0].status).toBe('fail');
  });

  test('a collector socket overflow still fails', () => {
    const r = results();
    collectorSection(r, [reading({ socketDrops: 3 })], exporters, { userPayloads: true });
    expect(r.checks[0].status).toBe('fail');
    expect(r.checks[0].detail).toMatch(/lost 3 datagrams the chain delivered/);
  });
});

describe('chainprobe run --replay: bad input exits 2 before anything starts', () => {
  const run = (args: string[]) =>
    execa('node', ['bin/chainprobe.js', 'run', ...args], { reject: false, timeout: 60_000 });

  test('with --traffic', async () => {
    const r = await run(['--replay', join(dir, 'mixed.pcap'), '--traffic', 'sflow']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/give --replay or --traffic, not both/);
  });

  test('a missing file', async () => {
    const missing = join(dir, 'nowhere.pcap');
    const r = await run(['--replay', missing]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`E_PCAP_OPEN: cannot read pcap file ${missing}`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  test('a capture without UDP', async () => {
    const none = join(dir, 'no-udp-cli.pcap');
    await writeUdpLessCapture(none);
    const r = await run(['--replay', none]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`E_CONFIG: ${none}: no UDP datagram to replay`);
  });

  test('--exporters without --traffic or --replay', async () => {
    const r = await run(['--exporters', '3']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--exporters needs --traffic or --replay/);
  });
});

describe("the profile's flow ports", () => {
  test('traffic.flowPorts moves a kind to the port its chain expects; an unknown kind is bad input', () => {
    const profile = defaultProfile();
    const moved = { ...profile, traffic: { ...profile.traffic, flowPorts: { ipfix: 4739 } } };
    const frames = flowExportFrames(
      new ChainOracle(moved, []),
      { mix: 'netflow-v9:1,ipfix:1,sflow:1' },
      runIdentity(79),
      'ethernet',
      1000,
    );
    expect(frames.exporters.map((e) => [e.kind, e.dstPort])).toEqual([
      ['netflow-v9', 2055],
      ['ipfix', 4739],
      ['sflow', 6343],
    ]);
    const typo = { ...profile, traffic: { ...profile.traffic, flowPorts: { ipfx: 4739 } } };
    expect(() =>
      flowExportFrames(new ChainOracle(typo, []), { mix: 'ipfix' }, runIdentity(80), 'ethernet', 1000),
    ).toThrow(/traffic.flowPorts names "ipfx", not a payload kind/);
  });
});

describe("a live run's flow frames in the profile's VXLAN", () => {
  // The outer IPv4 and UDP checksums are patched from sums made once (run/flow-frames.ts): tshark verifies
  // both layers' checksums of every frame, with the outer UDP checksum on and off (RFC 7348 allows 0).
  test.each([false, true])(
    'tshark verifies every checksum (outer UDP checksum %s)',
    async (udpChecksum) => {
      const profile = defaultProfile();
      const withChecksum = {
        ...profile,
        traffic: { ...profile.traffic, outer: { ...profile.traffic.outer, udpChecksum, srcPortCount: 7 } },
      };
      const frames = flowExportFrames(
        new ChainOracle(withChecksum, []),
        { mix: 'netflow-v9:50,ipfix:30,sflow:20', exporters: 3 },
        runIdentity(81),
        'ethernet',
        1000,
      );
      const out = join(dir, `vxlan-${udpChecksum}.pcap`);
      const w = PcapWriter.toFile(out, { precision: 'ns', linktype: 1 });
      for (let i = 0; i < 300; i++) w.write(frames.next(i), BigInt(i) * 1_000_000n);
      await w.close();
      const rows = await tsharkFields(
        out,
        ['ip.checksum.status', 'udp.checksum.status', 'udp.srcport', 'ip.id'],
        ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'],
      );
      expect(rows).toHaveLength(300);
      // every IPv4 header good (1): outer, inner, and the headers sFlow samples carry; the outer UDP checksum
      // good or absent (3), the exporter's own good
      for (const [ip, udpStatus] of rows) {
        expect(ip.split(',').every((s) => s === '1')).toBe(true);
        expect(udpStatus.split(',').slice(0, 2)).toEqual([udpChecksum ? '1' : '3', '1']);
      }
      // the outer source port cycles (RFC 7348 entropy) and the outer id counts from the run's base
      expect(new Set(rows.map((r) => r[2].split(',')[0])).size).toBe(7);
      const ids = rows.map((r) => Number(r[3].split(',')[0]));
      expect(ids[1] - ids[0]).toBe(1);
    },
    60_000,
  );
});
