/**
 * The peeler: turns the packets seen at one capture point into probe sightings, inner first.
 *
 *   frame ─dissect─► VXLAN? follow it ─► IPv4 fragment? reassemble ─► ESP? decrypt with the hop's SA
 *         ─► inner fragment? reassemble ─► UDP with a probe header of this run ─► sighting
 *
 * Along the way it checks what the profile says each hop must do: the source address preserved, the
 * destination as NAT predicts, fragments within the MTU, ESP with the expected SPI and rising sequence
 * numbers, the probe payload intact. Packets that are not this run's probes (ARP, IKE, other flows,
 * other runs) are counted as foreign and ignored. State is bounded: reassembly queues have limits and
 * nothing else is kept per packet.
 */

import type { InnerTuple } from '../chain/oracle.ts';
import { ipv4ToString } from '../codec/address.ts';
import { readU16, readU32 } from '../codec/bytes.ts';
import { DecodeError } from '../codec/errors.ts';
import { PROBE_OFFSET, verifyPayload } from '../codec/probe.ts';
import { Dissection, describe, dissect, LINKTYPE_IPV4 } from '../codec/stack.ts';
import type { PcapPacket } from '../pcap/packet.ts';
import { EspError, type EspSa } from '../transform/esp-sa.ts';
import {
  type FragmentFinding,
  type FragmentRecord,
  Reassembler,
  type ReassemblyEvent,
} from '../transform/fragment.ts';
import type { JourneyTracker, ViolationKind } from './journey.ts';

/** VPP's and RFC 4303's default anti-replay window (packets). */
const ESP_REPLAY_WINDOW = 64;

export interface PointContext {
  index: number;
  name: string;
  /** the probe's inner 5-tuple the profile predicts at this point's stage */
  expected: InnerTuple;
  /** largest IPv4 packet allowed for ESP (outer) fragments; null = no fragmentation in the profile */
  outerMtuBytes: number | null;
  /** largest inner fragment allowed (libipsec's TUN MTU); null = inner packets are not fragmented */
  innerMtuBytes: number | null;
  /** SAs by SPI, keys resolved */
  sas: Map<number, EspSa>;
}

/** What a decrypted packet carries from its ESP packet: SA, sequence, and an oversize outer fragment. */
interface EspContext {
  spi: number;
  seq: number;
  outerOver: FragmentRecord | null;
}

export interface RunFilter {
  /** this run's probe run id; null = adopt the first run id seen (offline analysis) */
  runId: number | null;
  /** also follow non-probe UDP (flow export, fingerprints) through the identifier registry */
  identify?: boolean;
}

const EXAMPLES_PER_KIND = 5;

/** IPv4 IDs reused by a sender while datagrams with that key could still be reassembled (RFC 6864). */
export interface IdReuseStats {
  /** datagrams that started with a key already in use (in flight or completed within the window) */
  datagrams: number;
  /** of those, how many began while another datagram with the key was still in flight */
  inFlight: number;
  /** shortest time between a datagram with the key and the next one using it */
  minGapNs: bigint | null;
  /** datagrams closed unfinished because another with their key began (their probes are not seen here) */
  unassembled: number;
  /** datagrams put together from pieces of two datagrams: rejected by ESP's ICV or the probe's checks */
  misassembled: number;
  /** the first reuse, for the report */
  example: string | null;
}

export class PointPeeler {
  packets = 0;
  foreign = 0;
  malformed = 0;
  reassembled = 0;
  maxFragmentBytes = 0;
  undecryptable = 0;
  sequenceRegressions = 0;
  /** ESP sequence numbers that arrived late but inside the anti-replay window (accepted by a receiver) */
  sequenceReorders = 0;
  /** datagrams that never completed (fragments missing): a loss symptom, counted apart from violations */
  incomplete = 0;
  readonly spis = new Set<number>();
  readonly idReuse: IdReuseStats = {
    datagrams: 0,
    inFlight: 0,
    minGapNs: null,
    unassembled: 0,
    misassembled: 0,
    example: null,
  };
  /** set while handling a datagram begun during an ID reuse in flight: it may mix two datagrams' pieces */
  private mixedSuspect = false;
  private readonly d = new Dissection();
  private readonly outerReassembler = new Reassembler({
    timeoutNs: 5_000_000_000n,
    maxBytes: 64 * 1024 * 1024,
    maxDatagrams: 65_536,
  });
  private readonly innerReassembler = new Reassembler({
    timeoutNs: 5_000_000_000n,
    maxBytes: 64 * 1024 * 1024,
    maxDatagrams: 65_536,
  });
  /** per SPI: the highest sequence number seen, and a ring of the last ESP_REPLAY_WINDOW numbers seen */
  private readonly espWindows = new Map<number, { top: number; seen: Uint32Array }>();

  /**
   * RFC 4303 §3.4.3: a receiver accepts an ESP packet whose sequence number is new and within the window
   * below the highest seen. VPP encrypts a vector of packets, then sends the small ones before the
   * fragments of a large one, so its wire order is not its sequence order: such reorders are counted,
   * not judged; a duplicate or a number behind the window is what a receiver drops.
   */
  private replayWindow(spi: number, seq: number): 'new' | 'reordered' | 'duplicate' | 'too-old' {
    let w = this.espWindows.get(spi);
    if (!w) {
      w = { top: 0, seen: new Uint32Array(ESP_REPLAY_WINDOW) };
      this.espWindows.set(spi, w);
    }
    const slot = seq % ESP_REPLAY_WINDOW;
    if (seq > w.top) {
      w.top = seq;
      w.seen[slot] = seq;
      return 'new';
    }
    if (seq + ESP_REPLAY_WINDOW <= w.top) return 'too-old';
    if (w.seen[slot] === seq) return 'duplicate';
    w.seen[slot] = seq;
    return 'reordered';
  }
  private readonly examples = new Map<ViolationKind, number>();

  constructor(
    private readonly ctx: PointContext,
    private readonly run: RunFilter,
    private readonly tracker: JourneyTracker,
  ) {}

  push(pkt: PcapPacket): void {
    this.packets++;
    try {
      dissect(pkt.data, pkt.linktype, this.d);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.malformed++;
      this.foreign++;
      return;
    }
    this.handle(pkt.data, pkt.linktype, pkt.timestampNs, null, null);
  }

  /** End of capture: datagrams still missing fragments are fragmentation findings. */
  flush(): void {
    for (const e of [...this.outerReassembler.flush(), ...this.innerReassembler.flush()])
      if (e.kind === 'failed') this.onFailed(e);
  }

  private handle(
    frame: Uint8Array,
    linktype: number,
    ts: bigint,
    fragments: FragmentRecord[] | null,
    esp: EspContext | null,
  ): void {
    const d = this.d;
    if (d.ipv4Offset < 0) {
      this.foreign++;
      return;
    }
    // A first fragment also dissects as ESP/UDP: reassemble before anything else. Only these two paths
    // need the IPv4 packet as its own view; the common probe path reads fields in place.
    if (d.fragment) {
      this.onFragment(
        this.ipView(frame),
        ts,
        esp !== null ? this.innerReassembler : this.outerReassembler,
        esp,
      );
      return;
    }
    if (d.espOffset >= 0) {
      this.onEsp(frame, this.ipView(frame), ts, fragments);
      return;
    }
    if (d.probeStatus === 'ok') {
      this.onProbe(frame, linktype, ts, fragments, esp);
      return;
    }
    if (d.probeStatus !== 'not-a-probe' && d.udpOffset >= 0 && this.isOurFlow(frame, d.udpOffset)) {
      // A UDP datagram of our flow whose probe header does not verify: the payload was mangled.
      this.violation('payload', undefined, `probe header ${d.probeStatus}`, frame, linktype, ts);
      return;
    }
    // Flow export and other UDP, followed by the identifier registry (analyze/identify) when asked to.
    if (this.run.identify && this.tracker.seeDatagram(d, this.ctx.index, ts)) return;
    this.foreign++;
  }

  private ipView(frame: Uint8Array): Uint8Array {
    const off = this.d.ipv4Offset;
    return frame.subarray(off, off + readU16(frame, off + 2));
  }

  private isOurFlow(frame: Uint8Array, udpOffset: number): boolean {
    return readU16(frame, udpOffset) === this.ctx.expected.srcPort;
  }

  private onFragment(ip: Uint8Array, ts: bigint, reassembler: Reassembler, esp: EspContext | null): void {
    let events: ReassemblyEvent[];
    try {
      events = reassembler.push(ip, ts);
    } catch (e) {
      if (!(e instanceof DecodeError) && !(e instanceof Error && 'code' in e)) throw e;
      this.malformed++;
      return;
    }
    for (const e of events) {
      if (e.kind === 'failed') {
        this.onFailed(e);
        continue;
      }
      const reusedInFlight = this.noteReuse(e.key.src, e.findings);
      this.reassembled++;
      try {
        dissect(e.packet, LINKTYPE_IPV4, this.d);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.malformed++;
        continue;
      }
      const outerSuspect = this.mixedSuspect;
      this.mixedSuspect = outerSuspect || reusedInFlight;
      try {
        this.handle(e.packet, LINKTYPE_IPV4, e.completedNs, e.fragments, esp);
      } finally {
        this.mixedSuspect = outerSuspect;
      }
    }
  }

  private isOurDatagram(src: number): boolean {
    return src === this.ctx.expected.srcIp || [...this.ctx.sas.values()].some((sa) => sa.tunnelSrc === src);
  }

  /** Counts an ID reuse the reassembler reported; true when the datagram began while another was in flight. */
  private noteReuse(src: number, findings: FragmentFinding[]): boolean {
    const f = findings.find((x) => x.kind === 'id-reuse' && x.reuse);
    if (!f?.reuse || !this.isOurDatagram(src)) return false;
    if (f.reuse.continued) return true; // the same interleaving episode: counted once
    const r = this.idReuse;
    r.datagrams++;
    if (f.reuse.inFlight) r.inFlight++;
    if (r.minGapNs === null || f.reuse.gapNs < r.minGapNs) r.minGapNs = f.reuse.gapNs;
    r.example ??= f.detail;
    return f.reuse.inFlight;
  }

  private onFailed(e: Extract<ReassemblyEvent, { kind: 'failed' }>): void {
    // Only datagrams of this chain's addresses are our business; a stray broken datagram is foreign.
    if (!this.isOurDatagram(e.key.src)) return;
    this.noteReuse(e.key.src, e.findings);
    // Closed because another datagram took its IP ID: the sender's doing (reported as reuse), not loss.
    if (e.findings.some((f) => f.kind === 'id-reuse' && !f.reuse)) {
      // a piece closed in the middle of an interleaving episode is not another datagram
      if (!e.findings.some((f) => f.reuse?.continued)) this.idReuse.unassembled++;
      return;
    }
    // Missing pieces alone mean packets were lost (the funnel counts that loss); only what a correct
    // fragmenter never produces — overlap, duplicate, oversize — is a fragmentation violation.
    const broken = e.findings.filter(
      (f) => f.kind === 'overlap' || f.kind === 'duplicate' || f.kind === 'oversize',
    );
    if (broken.length === 0) {
      this.incomplete++;
      return;
    }
    const detail = broken.map((f) => f.detail).join('; ');
    this.violation(
      'fragmentation',
      undefined,
      `datagram ${ipv4ToString(e.key.src)} > ${ipv4ToString(e.key.dst)} id ${e.key.id}: ${detail}`,
      null,
      0,
      e.atNs,
    );
  }

  private onEsp(frame: Uint8Array, ip: Uint8Array, ts: bigint, fragments: FragmentRecord[] | null): void {
    const espOff = this.d.espOffset;
    const spi = readU32(frame, espOff);
    const seq = readU32(frame, espOff + 4);
    const sa = this.ctx.sas.get(spi);
    if (!sa) {
      if (this.ctx.sas.size === 0) this.foreign++;
      else
        this.violation(
          'esp',
          undefined,
          `ESP with SPI 0x${spi.toString(16)}, expected ${[...this.ctx.sas.keys()].map((s) => `0x${s.toString(16)}`).join(' or ')}`,
          frame,
          0,
          ts,
          ip,
        );
      return;
    }
    this.spis.add(spi);
    const replay = this.replayWindow(spi, seq);
    if (replay === 'reordered') this.sequenceReorders++;
    else if (replay !== 'new') {
      this.sequenceRegressions++;
      this.violation(
        'esp',
        undefined,
        `ESP SPI 0x${spi.toString(16)} sequence ${seq} ${replay === 'duplicate' ? 'seen twice (a replay)' : `is behind the ${ESP_REPLAY_WINDOW}-packet anti-replay window`}`,
        null,
        0,
        ts,
      );
    }
    let inner: Uint8Array;
    try {
      inner = sa.decrypt(ip).inner;
    } catch (e) {
      if (!(e instanceof EspError)) throw e;
      if (this.mixedSuspect) {
        // pieces of two datagrams with one IP ID: the ICV says so; the reuse is the finding, not ESP
        this.idReuse.misassembled++;
        return;
      }
      this.undecryptable++;
      this.violation(
        'esp',
        undefined,
        `ESP SPI 0x${spi.toString(16)} seq ${seq}: ${e.reason}`,
        null,
        0,
        ts,
        ip,
      );
      return;
    }
    // The ESP packet's own fragments are checked against the link MTU; the finding is attributed to the
    // probe inside once it is decrypted and reassembled.
    const outerOver = this.checkFragments(fragments, this.ctx.outerMtuBytes);
    try {
      dissect(inner, LINKTYPE_IPV4, this.d);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.malformed++;
      return;
    }
    this.handle(inner, LINKTYPE_IPV4, ts, null, { spi, seq, outerOver });
  }

  /** Track the largest fragment; report those over the limit (attributed to a probe by the caller). */
  private checkFragments(fragments: FragmentRecord[] | null, limit: number | null): FragmentRecord | null {
    if (!fragments || fragments.length < 2) return null;
    let worst: FragmentRecord | null = null;
    for (const f of fragments) {
      if (f.totalBytes > this.maxFragmentBytes) this.maxFragmentBytes = f.totalBytes;
      if (limit !== null && f.totalBytes > limit && (!worst || f.totalBytes > worst.totalBytes)) worst = f;
    }
    return worst;
  }

  private onProbe(
    frame: Uint8Array,
    linktype: number,
    ts: bigint,
    fragments: FragmentRecord[] | null,
    esp: EspContext | null,
  ): void {
    const d = this.d;
    // Read only the fields needed (readProbe would also build the tx-time bigint).
    const p = d.probeOffset;
    const runId = readU32(frame, p + PROBE_OFFSET.runId);
    if (this.run.runId === null) this.run.runId = runId;
    if (runId !== this.run.runId) {
      this.foreign++;
      return;
    }
    const key = {
      flowId: readU32(frame, p + PROBE_OFFSET.flowId),
      seq: readU32(frame, p + PROBE_OFFSET.seq),
    };
    const payload = verifyPayload(frame, d.probeOffset, d.probeLength);
    if (!payload.ok && this.mixedSuspect) {
      // reassembled from pieces of two probes that shared an IP ID: not this probe, not a mangled payload
      this.idReuse.misassembled++;
      return;
    }
    this.tracker.see({
      flowId: key.flowId,
      seq: key.seq,
      point: this.ctx.index,
      timestampNs: ts,
      payloadBytes: readU16(frame, p + PROBE_OFFSET.payloadBytes),
    });
    const ipOff = d.ipv4Offset;
    const udpOff = d.udpOffset;
    const exp = this.ctx.expected;
    const src = readU32(frame, ipOff + 12);
    const dst = readU32(frame, ipOff + 16);
    if (src !== exp.srcIp) {
      this.violation(
        'sourceIp',
        key,
        `source ${ipv4ToString(src)}, expected ${ipv4ToString(exp.srcIp)} (preserved)`,
        frame,
        linktype,
        ts,
      );
    }
    const dport = readU16(frame, udpOff + 2);
    if (dst !== exp.dstIp || dport !== exp.dstPort) {
      this.violation(
        'nat',
        key,
        `destination ${ipv4ToString(dst)}:${dport}, expected ${ipv4ToString(exp.dstIp)}:${exp.dstPort}`,
        frame,
        linktype,
        ts,
      );
    }
    if (!payload.ok) this.violation('payload', key, payload.reason ?? 'payload differs', frame, linktype, ts);
    // Inner fragments (reassembled here, not inside ESP) must fit the inner MTU when the hop fragments
    // before encryption, else the link MTU.
    const limit = esp === null ? (this.ctx.innerMtuBytes ?? this.ctx.outerMtuBytes) : this.ctx.innerMtuBytes;
    const over = this.checkFragments(fragments, limit);
    if (over)
      this.violation(
        'fragmentation',
        key,
        `fragment of ${over.totalBytes} B at offset ${over.offsetBytes} exceeds MTU ${limit}`,
        frame,
        linktype,
        ts,
      );
    const outer = esp?.outerOver;
    if (outer)
      this.violation(
        'fragmentation',
        key,
        `ESP fragment of ${outer.totalBytes} B at offset ${outer.offsetBytes} exceeds MTU ${this.ctx.outerMtuBytes} (SPI 0x${esp.spi.toString(16)} seq ${esp.seq})`,
        frame,
        linktype,
        ts,
      );
  }

  private violation(
    kind: ViolationKind,
    probe: { flowId: number; seq: number } | undefined,
    reason: string,
    frame: Uint8Array | null,
    linktype: number,
    ts: bigint,
    ipOnly?: Uint8Array,
  ): void {
    const n = this.examples.get(kind) ?? 0;
    this.examples.set(kind, n + 1);
    // Decoding layers costs a copy: only the first examples per kind keep one.
    let layers: () => string[] = () => [];
    if (n < EXAMPLES_PER_KIND && (frame || ipOnly)) {
      const copy = (ipOnly ?? frame!).slice();
      const lt = ipOnly ? LINKTYPE_IPV4 : linktype;
      layers = () => layerLines(copy, lt);
    }
    this.tracker.violation({ kind, point: this.ctx.index, probe, reason, layers, timestampNs: ts });
  }
}

function layerLines(frame: Uint8Array, linktype: number): string[] {
  const d = new Dissection();
  try {
    dissect(frame, linktype, d);
    return describe(d);
  } catch (e) {
    return [`(undecodable: ${(e as Error).message})`];
  }
}
