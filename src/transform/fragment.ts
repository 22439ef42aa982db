/**
 * IPv4 fragmentation and reassembly (RFC 791 §3.2, RFC 815 hole bookkeeping), as pure functions on raw packet
 * bytes. `fragment` predicts what a Linux/VPP hop puts on a link with a smaller MTU; `reassemble` and the
 * streaming `Reassembler` undo it — and never guess: missing, overlapping, duplicate and oversize fragments
 * are reported as typed findings (the analyser counts them as fragmentation violations).
 */

import { readU32, writeU16 } from '../codec/bytes.ts';
import {
  dontFragment,
  fillIpv4Checksum,
  flagsFragment,
  fragmentOffsetBytes,
  IP_FLAG_DF,
  IP_FLAG_MF,
  IP_MAX_DATAGRAM_BYTES,
  IP_OFFSET_MASK,
  ipId,
  ipv4HeaderBytes,
  ipv4PacketHeaderBytes,
  isIpv4Fragment,
  moreFragments,
  totalLength,
} from '../codec/ipv4.ts';
import { ChainprobeError } from '../errors.ts';

export type FragmentErrorReason = 'df-set' | 'mtu-too-small' | 'mixed-datagrams' | 'empty';

export class FragmentError extends ChainprobeError {
  constructor(
    readonly reason: FragmentErrorReason,
    message: string,
  ) {
    super('E_FRAGMENT', message, false, { reason });
    this.name = 'FragmentError';
  }
}

/** Header for fragments after the first: fixed 20 bytes + only the options with the copy flag (RFC 791 §3.1). */
function copiedOptions(ip: Uint8Array, ihl: number): Uint8Array {
  const out: number[] = [];
  let i = 20;
  while (i < ihl) {
    const type = ip[i];
    if (type === 0) break; // end of option list
    if (type === 1) {
      i++; // NOP: not copied
      continue;
    }
    const len = ip[i + 1];
    if (len < 2 || i + len > ihl) break; // malformed options: stop copying rather than guess
    if (type & 0x80) for (let k = 0; k < len; k++) out.push(ip[i + k]);
    i += len;
  }
  while (out.length % 4) out.push(0);
  return Uint8Array.from(out);
}

/**
 * Splits an IPv4 packet for a link of `mtuBytes` (RFC 791): every fragment ≤ MTU, payload of all but the last a
 * multiple of 8, same ID, MF on all but the last, header checksum per fragment, the first fragment keeps all
 * options and the others only copy-flag options. Fragmenting a fragment keeps its offset base and its MF.
 * A packet ≤ MTU is returned as-is (the same object, in a one-element array). DF set and > MTU → FragmentError
 * 'df-set' (the hop would drop it and send ICMP "fragmentation needed").
 */
export function fragment(ip: Uint8Array, opts: { mtuBytes: number }): Uint8Array[] {
  const ihl = ipv4PacketHeaderBytes(ip);
  const total = totalLength(ip);
  const mtu = opts.mtuBytes;
  if (total <= mtu) return [ip];
  const ff = flagsFragment(ip);
  if (ff & IP_FLAG_DF) throw new FragmentError('df-set', `DF set on a ${total}-byte packet for MTU ${mtu}`);
  const later = copiedOptions(ip, ihl);
  const laterHdr = 20 + later.length;
  const firstChunk = Math.floor((mtu - ihl) / 8) * 8;
  const laterChunk = Math.floor((mtu - laterHdr) / 8) * 8;
  if (firstChunk < 8 || laterChunk < 8)
    throw new FragmentError('mtu-too-small', `MTU ${mtu} leaves no room for 8 payload bytes`);
  const baseOffset = (ff & IP_OFFSET_MASK) * 8;
  const lastHadMf = (ff & IP_FLAG_MF) !== 0;
  const payloadBytes = total - ihl;
  const frags: Uint8Array[] = [];
  let off = 0;
  while (off < payloadBytes) {
    const first = off === 0;
    const hdr = first ? ihl : laterHdr;
    const chunk = Math.min(first ? firstChunk : laterChunk, payloadBytes - off);
    const last = off + chunk >= payloadBytes;
    const f = new Uint8Array(hdr + chunk);
    f.set(ip.subarray(0, 20), 0);
    if (first) f.set(ip.subarray(20, ihl), 20);
    else {
      f.set(later, 20);
      f[0] = 0x40 | (hdr / 4);
    }
    f.set(ip.subarray(ihl + off, ihl + off + chunk), hdr);
    writeU16(f, 2, hdr + chunk);
    const mf = !last || lastHadMf;
    writeU16(f, 6, (ff & 0x8000) | (mf ? IP_FLAG_MF : 0) | ((baseOffset + off) / 8));
    fillIpv4Checksum(f, 0);
    frags.push(f);
    off += chunk;
  }
  return frags;
}

// ---------------------------------------------------------------------------------------------------------
// Reassembly

export type FragmentFindingKind =
  | 'missing'
  | 'overlap'
  | 'duplicate'
  | 'oversize'
  | 'timeout'
  | 'evicted'
  | 'id-reuse';

/**
 * RFC 6864: the IPv4 ID of a fragmented datagram must not repeat for the same (src, dst, protocol) while
 * the datagram may still be reassembled. Some senders (scapy's SA, some ESP endpoints) reuse it anyway.
 */
export interface IdReuse {
  /** true: the key was still being reassembled (fragments of both datagrams may mix); false: it had completed */
  inFlight: boolean;
  /** time since the previous datagram with the key completed (or, in flight, since its first fragment) */
  gapNs: bigint;
  /**
   * in flight, and the datagram it displaced had itself begun that way moments before: the same episode
   * of two interleaved datagrams, not another datagram reusing the ID (consumers count episodes once)
   */
  continued?: boolean;
}

export interface FragmentFinding {
  kind: FragmentFindingKind;
  /** for 'missing': the holes, [start, end) in payload bytes; end = null when the last fragment never came */
  holes?: Array<{ startByte: number; endByte: number | null }>;
  /** for 'overlap' / 'duplicate' / 'oversize': the offending fragment */
  offsetBytes?: number;
  payloadBytes?: number;
  /** for 'id-reuse' */
  reuse?: IdReuse;
  detail: string;
}

/** One fragment that made (or tried to make) the datagram — for "fragments ≤ MTU" checks. */
export interface FragmentRecord {
  offsetBytes: number;
  payloadBytes: number;
  /** the fragment's IP total length (its size on the link without L2) */
  totalBytes: number;
  moreFragments: boolean;
  dontFragment: boolean;
  /** arrival index within the datagram's fragments */
  arrival: number;
}

/** What a fragment (or an unfragmented packet) says about itself; its header already validated. */
function recordOf(ip: Uint8Array, ihl: number, arrival: number): FragmentRecord {
  const total = totalLength(ip);
  return {
    offsetBytes: fragmentOffsetBytes(ip),
    payloadBytes: total - ihl,
    totalBytes: total,
    moreFragments: moreFragments(ip),
    dontFragment: dontFragment(ip),
    arrival,
  };
}

export type ReassemblyResult =
  | { ok: true; packet: Uint8Array; fragments: FragmentRecord[]; findings: FragmentFinding[] }
  | { ok: false; fragments: FragmentRecord[]; findings: FragmentFinding[] };

export interface DatagramKey {
  src: number;
  dst: number;
  id: number;
  protocol: number;
}

export function datagramKey(ip: Uint8Array): DatagramKey {
  return { src: readU32(ip, 12), dst: readU32(ip, 16), id: ipId(ip), protocol: ip[9] };
}

const keyString = (k: DatagramKey) => `${k.src}:${k.dst}:${k.id}:${k.protocol}`;

/** Mutable state of one datagram being put back together. */
class Assembly {
  readonly records: FragmentRecord[] = [];
  readonly findings: FragmentFinding[] = [];
  /** accepted pieces, kept sorted by offset */
  readonly pieces: Array<{ off: number; data: Uint8Array }> = [];
  firstHeader?: Uint8Array;
  endByte: number | null = null;
  bytes = 0;
  failed = false;
  /** set when this datagram started while another with its key was in flight or had just completed */
  reuse: IdReuse | null = null;
  lastSeenNs: bigint;

  constructor(
    readonly key: DatagramKey,
    readonly firstSeenNs: bigint,
  ) {
    this.lastSeenNs = firstSeenNs;
  }

  /** Adds a fragment; `verdict`: what `judge` already said of it against this assembly (the streaming path). */
  add(ip: Uint8Array, verdict?: FragmentFinding | 'duplicate' | null): void {
    const ihl = ipv4PacketHeaderBytes(ip);
    const r = recordOf(ip, ihl, this.records.length);
    this.records.push(r);
    const { offsetBytes: off, moreFragments: mf, totalBytes: total, payloadBytes: len } = r;
    if (this.failed) return;
    const data = ip.subarray(ihl, total);
    const v = verdict === undefined ? this.judge(off, mf, data) : verdict;
    if (v === 'duplicate') {
      this.findings.push({
        kind: 'duplicate',
        offsetBytes: off,
        payloadBytes: len,
        detail: `fragment at offset ${off} (${len} bytes) received twice`,
      });
      return;
    }
    if (v) {
      this.fail(v);
      return;
    }
    if (!mf) this.endByte = off + len;
    if (off === 0) this.firstHeader = ip.subarray(0, ihl);
    let at = this.pieces.length;
    while (at > 0 && this.pieces[at - 1].off > off) at--;
    this.pieces.splice(at, 0, { off, data });
    this.bytes += total;
  }

  /**
   * Whether a fragment fits this datagram: null (it does), 'duplicate' (an identical resend of a piece held),
   * or the finding that breaks the datagram (overlap, oversize, a second last fragment). Changes nothing.
   */
  judge(off: number, mf: boolean, data: Uint8Array): FragmentFinding | 'duplicate' | null {
    const len = data.length;
    const at = { offsetBytes: off, payloadBytes: len };
    const hdr = this.firstHeader?.length ?? 20;
    if (hdr + off + len > IP_MAX_DATAGRAM_BYTES)
      return {
        kind: 'oversize',
        ...at,
        detail: `fragment at ${off}+${len} makes the datagram exceed 65535 bytes`,
      };
    // identical resend of a piece we hold → duplicate (harmless, reported); any other intersection → overlap
    for (const p of this.pieces) {
      const pEnd = p.off + p.data.length;
      if (off < pEnd && p.off < off + len) {
        if (p.off === off && p.data.length === len && equalBytes(p.data, data)) return 'duplicate';
        return { kind: 'overlap', ...at, detail: `fragment ${off}..${off + len} overlaps ${p.off}..${pEnd}` };
      }
    }
    if (!mf && this.endByte !== null && this.endByte !== off + len)
      return {
        kind: 'overlap',
        ...at,
        detail: `two last fragments: ends at ${this.endByte} and ${off + len}`,
      };
    const end = mf ? this.endByte : off + len;
    if (end !== null && off + len > end)
      return {
        kind: 'overlap',
        ...at,
        detail: `fragment ${off}..${off + len} extends past the last fragment's end ${end}`,
      };
    if (!mf && this.pieces.some((p) => p.off + p.data.length > off + len))
      return {
        kind: 'overlap',
        ...at,
        detail: `last fragment ends at ${off + len}, before pieces already held`,
      };
    if (mf && len % 8 !== 0)
      // RFC 791: all but the last fragment carry a multiple of 8 bytes; the next offset could not follow it
      return {
        kind: 'overlap',
        ...at,
        detail: `non-last fragment at ${off} has ${len} bytes, not a multiple of 8`,
      };
    return null;
  }

  /** Whether this exact fragment is one of the pieces held (a late copy). */
  holds(off: number, data: Uint8Array): boolean {
    return this.pieces.some((p) => p.off === off && equalBytes(p.data, data));
  }

  private fail(f: FragmentFinding): void {
    this.findings.push(f);
    this.failed = true;
    this.pieces.length = 0;
    this.bytes = 0;
  }

  holes(): Array<{ startByte: number; endByte: number | null }> {
    const holes: Array<{ startByte: number; endByte: number | null }> = [];
    let at = 0;
    for (const p of this.pieces) {
      if (p.off > at) holes.push({ startByte: at, endByte: p.off });
      at = Math.max(at, p.off + p.data.length);
    }
    if (this.endByte === null) holes.push({ startByte: at, endByte: null });
    else if (at < this.endByte) holes.push({ startByte: at, endByte: this.endByte });
    return holes;
  }

  complete(): boolean {
    return (
      !this.failed && this.endByte !== null && this.firstHeader !== undefined && this.holes().length === 0
    );
  }

  build(): Uint8Array {
    const hdr = this.firstHeader as Uint8Array;
    const end = this.endByte as number;
    const out = new Uint8Array(hdr.length + end);
    out.set(hdr, 0);
    for (const p of this.pieces) out.set(p.data, hdr.length + p.off);
    writeU16(out, 2, out.length);
    // flags and offset cleared: a datagram that was fragmented cannot have had DF
    out[6] = 0;
    out[7] = 0;
    fillIpv4Checksum(out, 0);
    return out;
  }

  result(): ReassemblyResult {
    if (this.complete())
      return { ok: true, packet: this.build(), fragments: this.records, findings: this.findings };
    const findings = [...this.findings];
    if (!this.failed) {
      const holes = this.holes();
      findings.push({
        kind: 'missing',
        holes,
        detail: `missing ${holes.map((h) => `${h.startByte}..${h.endByte ?? 'end'}`).join(', ')}`,
      });
    }
    return { ok: false, fragments: this.records, findings };
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Reassembles the fragments of ONE datagram (any order). A single unfragmented packet comes back as-is.
 * Fragments of different datagrams (src, dst, id, protocol) → FragmentError 'mixed-datagrams'.
 * The result lists the fragments used (sizes/offsets) and findings; ok=false when the datagram cannot be built
 * (missing pieces, overlap, oversize) — no guessing.
 */
export function reassemble(fragments: readonly Uint8Array[]): ReassemblyResult {
  if (fragments.length === 0) throw new FragmentError('empty', 'reassemble: no fragments');
  const key = datagramKey(fragments[0]);
  const ks = keyString(key);
  if (fragments.length === 1 && !isIpv4Fragment(fragments[0], 0)) {
    const ip = fragments[0];
    return { ok: true, packet: ip, fragments: [recordOf(ip, ipv4PacketHeaderBytes(ip), 0)], findings: [] };
  }
  const a = new Assembly(key, 0n);
  for (const f of fragments) {
    if (keyString(datagramKey(f)) !== ks)
      throw new FragmentError(
        'mixed-datagrams',
        'reassemble: fragments of more than one datagram (src, dst, id, protocol differ)',
      );
    a.add(f);
  }
  return a.result();
}

// ---------------------------------------------------------------------------------------------------------
// Streaming reassembler for captures: bounded memory, age limit, typed findings.

export interface ReassemblerOptions {
  /** a datagram not complete this long after its first fragment is reported 'timeout' + 'missing' (default 30 s, Linux ipfrag_time) */
  timeoutNs?: bigint;
  /** upper bound of buffered fragment bytes (default 4 MiB, Linux ipfrag_high_thresh); oldest datagrams are evicted */
  maxBytes?: number;
  /** upper bound of datagrams in progress (default 4096) */
  maxDatagrams?: number;
  /**
   * how many recently completed datagrams to remember (for up to `timeoutNs`), to tell a late copy of one
   * of their fragments (a duplicate) from a new datagram reusing the IP ID (default 1024)
   */
  rememberCompleted?: number;
  /**
   * On a key already seen reused, a datagram that got no fragment for this long is given up when another
   * fragment with the key arrives (default 1 ms): a sender emits one datagram's fragments back to back, so
   * the newcomer belongs to the next datagram, and leftovers of a broken one must not be glued to it.
   */
  reusedKeyIdleNs?: bigint;
}

export type ReassemblyEvent =
  | {
      kind: 'complete';
      key: DatagramKey;
      packet: Uint8Array;
      fragments: FragmentRecord[];
      findings: FragmentFinding[];
      firstSeenNs: bigint;
      completedNs: bigint;
    }
  | {
      kind: 'failed';
      key: DatagramKey;
      fragments: FragmentRecord[];
      findings: FragmentFinding[];
      firstSeenNs: bigint;
      atNs: bigint;
    };

/**
 * Feed packets in capture order with their capture timestamps; get back completed datagrams and failures.
 * Unfragmented packets complete immediately. Overlap/oversize fail the datagram at once (as Linux does since
 * 4.19: the whole queue is dropped); missing pieces are reported when the datagram times out, is evicted, or at
 * `flush()` (end of capture).
 *
 * IP ID reuse, as Linux reassembles: a completed datagram frees its key, so a later fragment with the same
 * key starts a new datagram — unless it is a byte-identical copy of a piece of the one just completed
 * (then it is a 'duplicate' failure event). A new first fragment that conflicts with a datagram still in
 * flight (or any conflict on a key already seen reused) is another datagram with the same ID: the one in
 * flight is closed and the new one started. Both cases put an 'id-reuse' finding on the new datagram's
 * event; a datagram begun while another with its key was in flight may hold pieces of both, so its
 * consumer must verify it (ESP's ICV, the probe's checks) before trusting it.
 */
export class Reassembler {
  private readonly timeoutNs: bigint;
  private readonly maxBytes: number;
  private readonly maxDatagrams: number;
  private readonly rememberCompleted: number;
  private readonly reusedKeyIdleNs: bigint;
  private readonly queues = new Map<string, Assembly>();
  /** recently completed datagrams by key, oldest first */
  private readonly completed = new Map<string, { assembly: Assembly; completedNs: bigint }>();
  private bufferedBytes = 0;

  constructor(o: ReassemblerOptions = {}) {
    this.timeoutNs = o.timeoutNs ?? 30_000_000_000n;
    this.maxBytes = o.maxBytes ?? 4 * 1024 * 1024;
    this.maxDatagrams = o.maxDatagrams ?? 4096;
    this.rememberCompleted = o.rememberCompleted ?? 1024;
    this.reusedKeyIdleNs = o.reusedKeyIdleNs ?? 1_000_000n;
  }

  /** Datagrams currently in progress and the bytes they hold. */
  get pending(): { datagrams: number; bytes: number } {
    return { datagrams: this.queues.size, bytes: this.bufferedBytes };
  }

  push(ip: Uint8Array, timestampNs: bigint): ReassemblyEvent[] {
    const events = this.expire(timestampNs);
    ipv4PacketHeaderBytes(ip);
    const key = datagramKey(ip);
    if (!isIpv4Fragment(ip, 0)) {
      const r = reassemble([ip]);
      if (r.ok)
        events.push({
          kind: 'complete',
          key,
          packet: r.packet,
          fragments: r.fragments,
          findings: [],
          firstSeenNs: timestampNs,
          completedNs: timestampNs,
        });
      return events;
    }
    const ks = keyString(key);
    const ihl = ipv4HeaderBytes(ip);
    const off = fragmentOffsetBytes(ip);
    const data = ip.subarray(ihl, totalLength(ip));
    let a = this.queues.get(ks);
    // judged once against the datagram in flight, reused by add() (undefined: a new assembly judges it)
    let verdict: FragmentFinding | 'duplicate' | null | undefined;
    if (!a) {
      const done = this.completed.get(ks);
      if (done?.assembly.holds(off, data)) {
        events.push(this.lateCopy(key, ip, timestampNs));
        return events;
      }
      a = this.open(ks, key, timestampNs);
      if (done) {
        this.completed.delete(ks);
        this.markReuse(a, { inFlight: false, gapNs: timestampNs - done.completedNs });
      }
    } else {
      verdict = a.judge(off, moreFragments(ip), data);
      const stale = a.reuse !== null && timestampNs - a.lastSeenNs > this.reusedKeyIdleNs;
      if (stale || (verdict !== null && verdict !== 'duplicate' && (off === 0 || a.reuse !== null))) {
        // Not a broken fragment of this datagram: the start of another one with the same ID (or a piece of
        // one, on a key already seen reused). Close the one in flight; Linux would have dropped it too.
        this.drop(ks, a);
        const gapNs = timestampNs - a.firstSeenNs;
        events.push(
          this.failure(
            a,
            'id-reuse',
            `IP ID reused while a datagram with that key was in flight (${formatMs(gapNs)} after its first fragment): closed unfinished${stale ? ' (idle, on a key seen reused)' : ''}`,
            timestampNs,
          ),
        );
        const continued = !stale && a.reuse?.inFlight === true;
        a = this.open(ks, key, timestampNs);
        this.markReuse(a, { inFlight: true, gapNs, ...(continued ? { continued } : {}) });
        verdict = undefined;
      }
    }
    const before = a.bytes;
    a.lastSeenNs = timestampNs;
    // keep our own copy: capture buffers are reused by streaming readers
    a.add(ip.slice(0, totalLength(ip)), verdict);
    this.bufferedBytes += a.bytes - before;
    if (a.failed) {
      this.drop(ks, a);
      events.push({
        kind: 'failed',
        key,
        fragments: a.records,
        findings: a.findings,
        firstSeenNs: a.firstSeenNs,
        atNs: timestampNs,
      });
    } else if (a.complete()) {
      this.drop(ks, a);
      this.rememberDone(ks, a, timestampNs);
      events.push({
        kind: 'complete',
        key,
        packet: a.build(),
        fragments: a.records,
        findings: a.findings,
        firstSeenNs: a.firstSeenNs,
        completedNs: timestampNs,
      });
    }
    this.enforceBounds(events, timestampNs);
    return events;
  }

  private open(ks: string, key: DatagramKey, nowNs: bigint): Assembly {
    const a = new Assembly(key, nowNs);
    this.queues.set(ks, a);
    return a;
  }

  private markReuse(a: Assembly, reuse: IdReuse): void {
    a.reuse = reuse;
    a.findings.push({
      kind: 'id-reuse',
      reuse,
      detail: reuse.inFlight
        ? `IP ID reused while a datagram with that key was in flight (${formatMs(reuse.gapNs)} after its first fragment)`
        : `IP ID reused ${formatMs(reuse.gapNs)} after a datagram with that key completed (RFC 6864)`,
    });
  }

  /** A copy of a fragment of a datagram already reassembled. */
  private lateCopy(key: DatagramKey, ip: Uint8Array, atNs: bigint): ReassemblyEvent {
    const record = recordOf(ip, ipv4HeaderBytes(ip), 0);
    const { offsetBytes: off, payloadBytes: len } = record;
    return {
      kind: 'failed',
      key,
      fragments: [record],
      findings: [
        {
          kind: 'duplicate',
          offsetBytes: off,
          payloadBytes: len,
          detail: `fragment at offset ${off} arrived after its datagram was reassembled`,
        },
      ],
      firstSeenNs: atNs,
      atNs,
    };
  }

  /** Reports (and forgets) datagrams older than the timeout at `nowNs`. */
  expire(nowNs: bigint): ReassemblyEvent[] {
    const events: ReassemblyEvent[] = [];
    for (const [ks, done] of this.completed) {
      if (nowNs - done.completedNs <= this.timeoutNs) break; // insertion order = completion order
      this.completed.delete(ks);
    }
    for (const [ks, a] of this.queues) {
      if (nowNs - a.firstSeenNs <= this.timeoutNs) break; // Map keeps insertion order = first-seen order
      this.drop(ks, a);
      events.push(
        this.failure(
          a,
          'timeout',
          `not complete ${Number(nowNs - a.firstSeenNs) / 1e9} s after its first fragment`,
          nowNs,
        ),
      );
    }
    return events;
  }

  /** End of capture: every datagram still in progress is reported as missing pieces. */
  flush(nowNs = 0n): ReassemblyEvent[] {
    const events: ReassemblyEvent[] = [];
    for (const [ks, a] of this.queues) {
      this.drop(ks, a);
      const r = a.result();
      events.push({
        kind: 'failed',
        key: a.key,
        fragments: a.records,
        findings: r.findings,
        firstSeenNs: a.firstSeenNs,
        atNs: nowNs,
      });
    }
    return events;
  }

  private failure(
    a: Assembly,
    kind: 'timeout' | 'evicted' | 'id-reuse',
    detail: string,
    atNs: bigint,
  ): ReassemblyEvent {
    const r = a.result();
    return {
      kind: 'failed',
      key: a.key,
      fragments: a.records,
      findings: [{ kind, detail }, ...r.findings],
      firstSeenNs: a.firstSeenNs,
      atNs,
    };
  }

  private drop(ks: string, a: Assembly): void {
    this.queues.delete(ks);
    this.bufferedBytes -= a.bytes;
  }

  private rememberDone(ks: string, assembly: Assembly, completedNs: bigint): void {
    this.completed.delete(ks);
    this.completed.set(ks, { assembly, completedNs });
    if (this.completed.size > this.rememberCompleted) {
      const oldest = this.completed.keys().next().value;
      if (oldest !== undefined) this.completed.delete(oldest);
    }
  }

  private enforceBounds(events: ReassemblyEvent[], nowNs: bigint): void {
    while (
      this.queues.size > 0 &&
      (this.bufferedBytes > this.maxBytes || this.queues.size > this.maxDatagrams)
    ) {
      const [ks, a] = this.queues.entries().next().value as [string, Assembly];
      this.drop(ks, a);
      events.push(
        this.failure(
          a,
          'evicted',
          `evicted to stay within ${this.maxBytes} bytes / ${this.maxDatagrams} datagrams`,
          nowNs,
        ),
      );
    }
  }
}

const formatMs = (ns: bigint) =>
  ns < 1_000_000n ? `${(Number(ns) / 1e3).toFixed(1)} µs` : `${(Number(ns) / 1e6).toFixed(3)} ms`;
