/**
 * `--replay FILE`'s reading of a capture (traffic/capture-payloads.ts) against scapy: what it keeps of each
 * packet — the innermost UDP payload, VXLAN-mirrored traffic decapsulated, with its destination port — is
 * what scapy's rdpcap reads, for pcap and pcapng, for a scapy-built mixed capture and for chainprobe's own
 * crafted flow mix; non-UDP packets and fragments are skipped and counted. And the CLI's bad input: exit 2
 * with a message naming what was wrong, before any chain is touched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type CapturePayloads,
  describeCapturePayloads,
  readCapturePayloads,
} from '../../src/traffic/capture-payloads.ts';
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
    await writeMixedCapture(pcap, pcapng);
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
