/**
 * Synthesises the four captures of a healthy run of the VPP profile (fixtures/vpp-testing.json) in one
 * process, from the profile's own oracle (ChainOracle.predict), with consistent timestamps:
 *
 *   probe i sent at t0 + i·100 µs; ingress +0, decap +20 µs, wire +40 µs, delivered +60 µs;
 *   the fragments of one ESP datagram 1 µs apart.
 *
 *   ingress    Ethernet frames: outer IPv4/UDP/VXLAN around the inner Ethernet frame   (linktype 1)
 *   decap      the inner Ethernet frames                                                (linktype 1)
 *   wire       raw IPv4 ESP (SPI 1000), fragmented at MTU 1400                         (linktype 228)
 *   delivered  the decrypted, post-NAT inner IPv4 packets                               (linktype 228)
 *
 * Unrelated traffic is mixed in at every point (ARP, UDP of another flow) so the analyser's "foreign"
 * accounting is exercised; `foreign` says how many such packets each file holds.
 *
 * The fault tests never edit these files with our own code: pcap-faults.py (scapy) does. What this module
 * returns about each probe (its seq, size, the outer IP id of its ESP datagram) only tells scapy *which*
 * packets to touch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ChainOracle } from '../../src/chain/oracle.ts';
import { type Profile, parseProfile } from '../../src/chain/profile.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4 } from '../../src/codec/stack.ts';
import type { ProbeTemplate } from '../../src/codec/template.ts';
import { PcapWriter } from '../../src/pcap/pcap-writer.ts';
import type { EspSa } from '../../src/transform/esp-sa.ts';

export const PROFILE_PATH = new URL('../../fixtures/vpp-testing.json', import.meta.url).pathname;
export const loadVppProfile = (): Profile =>
  parseProfile(JSON.parse(readFileSync(PROFILE_PATH, 'utf8')), PROFILE_PATH);

export const POINTS = ['ingress', 'decap', 'wire', 'delivered'] as const;
export type PointName = (typeof POINTS)[number];

const US = 1000n;
export const T0_NS = 1_700_000_000_000_000_000n; // µs-aligned, so a µs pcap keeps every timestamp
export const PROBE_SPACING_NS = 100n * US;
export const STAGE_DELAY_NS = 20n * US;
export const FRAGMENT_SPACING_NS = 1n * US;
export const RUN_ID = 0x0c4a1;
export const FLOW_ID = 1;

export interface ProbeInfo {
  seq: number;
  payloadBytes: number;
  sentNs: bigint;
  /** outer IPv4 id of the probe's ESP datagram on the wire (all its fragments carry it) */
  wireIpId: number;
  /** ESP sequence number */
  espSeq: number;
  /** packets on the wire: 1, or the number of fragments */
  wirePackets: number;
}

export interface ChainRun {
  dir: string;
  files: Record<PointName, string>;
  probes: ProbeInfo[];
  /** unrelated packets written at each point */
  foreign: Record<PointName, number>;
}

export interface ChainRunOptions {
  dir: string;
  probes?: number;
  /** payload bytes of probe i (default: even 100, odd 8000) */
  size?: (seq: number) => number;
  /** which capture points to write (default all four) */
  points?: readonly PointName[];
  /** mix in unrelated traffic (default true) */
  foreign?: boolean;
  /** file name prefix (default "") */
  prefix?: string;
}

const STAGE_OF: Record<PointName, string> = {
  ingress: 'ingress',
  decap: 'decap',
  wire: 'wire',
  delivered: 'delivered',
};
const LINKTYPE_OF: Record<PointName, number> = {
  ingress: LINKTYPE_ETHERNET,
  decap: LINKTYPE_ETHERNET,
  wire: LINKTYPE_IPV4,
  delivered: LINKTYPE_IPV4,
};
const DELAY_OF: Record<PointName, bigint> = {
  ingress: 0n,
  decap: STAGE_DELAY_NS,
  wire: 2n * STAGE_DELAY_NS,
  delivered: 3n * STAGE_DELAY_NS,
};

export const defaultSize = (seq: number): number => (seq % 2 === 0 ? 100 : 8000);

/** Writes the captures of a healthy run; every file is time-ordered. */
export async function writeHealthyRun(opts: ChainRunOptions): Promise<ChainRun> {
  const profile = loadVppProfile();
  const oracle = new ChainOracle(profile);
  const count = opts.probes ?? 200;
  const size = opts.size ?? defaultSize;
  const points = opts.points ?? POINTS;
  const withForeign = opts.foreign ?? true;
  const prefix = opts.prefix ?? '';
  const files = Object.fromEntries(POINTS.map((p) => [p, join(opts.dir, `${prefix}${p}.pcap`)])) as Record<
    PointName,
    string
  >;
  const writers = new Map(
    points.map((p) => [p, PcapWriter.toFile(files[p], { linktype: LINKTYPE_OF[p], precision: 'ns' })]),
  );
  const foreign = Object.fromEntries(POINTS.map((p) => [p, 0])) as Record<PointName, number>;
  const templates = new Map<number, ProbeTemplate>();
  const sas = new Map<string, EspSa>(); // one SA state across probes: ESP sequence numbers rise
  const probes: ProbeInfo[] = [];

  // Each file is written in time order: probe i's packets at a point come before anything later.
  const put = (point: PointName, data: Uint8Array, ts: bigint) => writers.get(point)?.write(data, ts);

  for (let seq = 0; seq < count; seq++) {
    const payloadBytes = size(seq);
    let tpl = templates.get(payloadBytes);
    if (!tpl) {
      tpl = oracle.template({ payloadBytes, runId: RUN_ID, flowId: FLOW_ID });
      templates.set(payloadBytes, tpl);
    }
    const sentNs = T0_NS + BigInt(seq) * PROBE_SPACING_NS;
    const frame = tpl.patch(seq, sentNs).slice(); // patch() reuses its buffer
    const stages = oracle.predict(frame, sas);
    const at = (stage: string) => {
      const s = stages.find((x) => x.stage === stage);
      if (!s) throw new Error(`the oracle has no stage ${stage}`);
      return s;
    };
    const wire = at('wire').packets;
    const esp = at('esp').packets[0];
    probes.push({
      seq,
      payloadBytes,
      sentNs,
      wireIpId: (wire[0][4] << 8) | wire[0][5],
      espSeq: ((esp[24] << 24) | (esp[25] << 16) | (esp[26] << 8) | esp[27]) >>> 0,
      wirePackets: wire.length,
    });
    for (const p of points) {
      const s = at(STAGE_OF[p]);
      if (s.linktype !== LINKTYPE_OF[p])
        throw new Error(`stage ${s.stage} has linktype ${s.linktype}, expected ${LINKTYPE_OF[p]}`);
      for (const [k, pkt] of s.packets.entries())
        put(p, pkt, sentNs + DELAY_OF[p] + BigInt(k) * FRAGMENT_SPACING_NS);
    }
    // Unrelated traffic between this probe's last sighting (+60 µs) and the next probe, at a few places.
    if (withForeign && (seq === 3 || seq === Math.floor(count / 2))) {
      const ts = sentNs + 80n * US;
      if (writers.has('ingress')) {
        put('ingress', arpRequest(), ts);
        foreign.ingress++;
      }
      if (seq === 3) {
        if (writers.has('ingress')) {
          put(
            'ingress',
            ethernet(udpPacket('172.20.100.1', '172.20.100.10', 5353, 5353, 60), 0x0800),
            ts + 1n * US,
          );
          foreign.ingress++;
        }
        if (writers.has('decap')) {
          put('decap', arpRequest(), ts);
          foreign.decap++;
        }
        if (writers.has('wire')) {
          // IKE-like UDP between the tunnel endpoints: not ESP, not a probe
          put('wire', udpPacket('172.20.101.20', '172.20.102.20', 500, 500, 120), ts);
          foreign.wire++;
        }
        if (writers.has('delivered')) {
          // another flow to the same collector port: a UDP payload that is no probe
          put('delivered', udpPacket('10.10.10.6', '172.20.102.10', 41000, 2055, 80), ts);
          foreign.delivered++;
        }
      }
    }
  }
  for (const w of writers.values()) await w.close();
  return { dir: opts.dir, files, probes, foreign };
}

// ---- unrelated packets (hand-built; the analyser must merely recognise they are not probes) ----

const ip4 = (s: string) => s.split('.').map(Number);

function checksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | (b[off + i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** IPv4/UDP with `payload` bytes of a fixed non-probe pattern; UDP checksum 0 (allowed in IPv4). */
export function udpPacket(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payload: number,
): Uint8Array {
  const b = new Uint8Array(28 + payload);
  const len = b.length;
  b.set([0x45, 0, len >> 8, len & 0xff, 0x12, 0x34, 0, 0, 64, 17, 0, 0, ...ip4(src), ...ip4(dst)]);
  const ck = checksum(b, 0, 20);
  b[10] = ck >> 8;
  b[11] = ck & 0xff;
  b.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, (len - 20) >> 8, (len - 20) & 0xff, 0, 0], 20);
  for (let i = 28; i < len; i++) b[i] = (i * 7) & 0xff;
  return b;
}

export function ethernet(payload: Uint8Array, ethertype: number): Uint8Array {
  const b = new Uint8Array(14 + payload.length);
  b.set([0x02, 0, 0, 0x14, 0x64, 0x0a, 0x02, 0, 0, 0x14, 0x64, 0x01, ethertype >> 8, ethertype & 0xff]);
  b.set(payload, 14);
  return b;
}

/** "who has 172.20.100.10? tell 172.20.100.1", broadcast */
export function arpRequest(): Uint8Array {
  const arp = [
    0,
    1,
    8,
    0,
    6,
    4,
    0,
    1,
    0x02,
    0,
    0,
    0x14,
    0x64,
    0x01,
    ...ip4('172.20.100.1'),
    0,
    0,
    0,
    0,
    0,
    0,
    ...ip4('172.20.100.10'),
  ];
  const b = ethernet(Uint8Array.from([...arp, ...new Array(18).fill(0)]), 0x0806);
  b.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  return b;
}

// ---- scapy (the independent editor) ----

export const PYTHON = '/usr/bin/python3'; // the python3 on PATH has no scapy
export const FAULTS_SCRIPT = new URL('./pcap-faults.py', import.meta.url).pathname;

export type FaultOp = { op: string; in: string; out: string } & Record<string, unknown>;

/** Runs a batch of pcap edits in one scapy process; returns what each op reports (counts of touched packets). */
export async function scapyEdit(ops: FaultOp[]): Promise<Record<string, number>[]> {
  const r = await execa(PYTHON, [FAULTS_SCRIPT], { input: JSON.stringify(ops), timeout: 120_000 });
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, number>[];
}
