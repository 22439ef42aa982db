/**
 * The oracle: from a profile, what a probe looks like at every stage of the chain.
 *
 * Traffic is built by the frame template (stage 0, as injected); each later stage applies its transform to
 * the previous stage's packets with the same pure functions the analyser uses to undo them
 * (vxlanDecap, dnat44, EspSa + fragment, decryptFromWire). So `craft --stage wire` writes exactly what
 * the analyser expects to find on the wire, and a profile change moves both at once.
 */
import { parseIpv4 } from '../codec/address.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4 } from '../codec/stack.ts';
import { createVxlanTemplate, type ProbeTemplate, type VxlanFrameSpec } from '../codec/template.ts';
import { ChainprobeError } from '../errors.ts';
import { EspSa } from '../transform/esp-sa.ts';
import { decryptFromWire, encryptForWire } from '../transform/esp-wire.ts';
import { fragment } from '../transform/fragment.ts';
import { dnat44 } from '../transform/nat44.ts';
import { ethernetIpv4Offset, vxlanDecap } from '../transform/vxlan-decap.ts';
import type { EspSaSpec, Profile, StageSpec } from './profile.ts';

/** Packets in one linktype: Ethernet frames (ingress, decap) or raw IPv4 packets (every later stage). */
export interface StagePackets {
  stage: string;
  linktype: number;
  packets: Uint8Array[];
}

/** Keys for SAs whose profile says `key: { from: 'runtime' }` (IKE-negotiated, e.g. the reference chain). */
export interface RuntimeSaKey {
  spi: number;
  key: Uint8Array;
  salt: Uint8Array;
}

/** The 5-tuple a probe's inner packet carries at a stage. */
export interface InnerTuple {
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
}

export interface ProbeRunSpec {
  payloadBytes: number;
  runId: number;
  flowId?: number;
}

const hexBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

export class ChainOracle {
  constructor(
    readonly profile: Profile,
    private readonly runtimeKeys: RuntimeSaKey[] = [],
  ) {}

  templateSpec(run: ProbeRunSpec): VxlanFrameSpec {
    const { outer, inner } = this.profile.traffic;
    return {
      payloadBytes: run.payloadBytes,
      runId: run.runId,
      flowId: run.flowId ?? 1,
      outer: { ...outer },
      inner: { ...inner },
    };
  }

  template(run: ProbeRunSpec): ProbeTemplate {
    return createVxlanTemplate(this.templateSpec(run));
  }

  /** The ESP SA a stage's `esp-encrypt` transform describes, with its key resolved. */
  saFor(spec: EspSaSpec): EspSa {
    let key: Uint8Array;
    let salt: Uint8Array;
    if (typeof spec.key === 'string') {
      key = hexBytes(spec.key);
      salt = hexBytes(spec.salt);
    } else {
      const rt = this.runtimeKeys.find((k) => k.spi === spec.spi);
      if (!rt) {
        throw new ChainprobeError(
          'E_NO_SA_KEY',
          `the profile's SA ${spec.spi} (0x${spec.spi.toString(16)}) takes its key at run time (IKE), and none was supplied: bring the chain up (chainprobe chain up) or pass the key`,
          true,
        );
      }
      key = rt.key;
      salt = rt.salt;
    }
    return new EspSa({
      spi: spec.spi,
      key,
      salt,
      tunnelSrc: spec.tunnel.srcIp,
      tunnelDst: spec.tunnel.dstIp,
      encapsulation: spec.encapsulation,
      ttl: spec.ttl,
    });
  }

  /** Every SA the profile's stages use, keys resolved (throws E_NO_SA_KEY when one is missing). */
  sas(): EspSa[] {
    return this.profile.stages.flatMap((s) =>
      s.transform?.kind === 'esp-encrypt' ? [this.saFor(s.transform.sa)] : [],
    );
  }

  /** The probe's inner 5-tuple at each stage (ESP and fragmentation do not change it; NAT does). */
  innerTuples(): Map<string, InnerTuple> {
    const i = this.profile.traffic.inner;
    let t: InnerTuple = {
      srcIp: parseIpv4(i.srcIp),
      dstIp: parseIpv4(i.dstIp),
      srcPort: i.srcPort,
      dstPort: i.dstPort,
    };
    const out = new Map<string, InnerTuple>();
    for (const s of this.profile.stages) {
      const tr = s.transform;
      if (tr?.kind === 'dnat44' && t.dstIp === parseIpv4(tr.match.dstIp) && t.dstPort === tr.match.dstPort) {
        t = { ...t, dstIp: parseIpv4(tr.rewrite.dstIp), dstPort: tr.rewrite.dstPort };
      }
      out.set(s.name, t);
    }
    return out;
  }

  /** MTU limits per stage: fragments seen at or after a `fragment` stage must fit `mtuBytes`. */
  fragmentLimits(): Map<string, { outerMtuBytes: number | null; innerMtuBytes: number | null }> {
    const out = new Map<string, { outerMtuBytes: number | null; innerMtuBytes: number | null }>();
    let outer: number | null = null;
    let inner: number | null = null;
    for (const s of this.profile.stages) {
      const tr = s.transform;
      if (tr?.kind === 'esp-encrypt' && tr.sa.innerMtuBytes) inner = tr.sa.innerMtuBytes;
      if (tr?.kind === 'fragment') outer = tr.mtuBytes;
      out.set(s.name, { outerMtuBytes: outer, innerMtuBytes: inner });
    }
    return out;
  }

  /**
   * One probe through the chain: its packets at every stage. `sas` carries the SA state across calls
   * (sequence numbers, outer IP ids) so a series of probes gets consecutive ESP sequence numbers.
   */
  predict(frame: Uint8Array, sas: Map<string, EspSa> = new Map()): StagePackets[] {
    const out: StagePackets[] = [];
    let cur: StagePackets = {
      stage: this.profile.stages[0].name,
      linktype: LINKTYPE_ETHERNET,
      packets: [frame],
    };
    out.push(cur);
    let pendingWire: { sa: EspSa; innerMtuBytes?: number } | null = null;
    for (const stage of this.profile.stages.slice(1)) {
      cur = this.apply(
        stage,
        cur,
        sas,
        (p) => {
          pendingWire = p;
        },
        pendingWire,
      );
      out.push(cur);
    }
    return out;
  }

  private apply(
    stage: StageSpec,
    prev: StagePackets,
    sas: Map<string, EspSa>,
    setPending: (p: { sa: EspSa; innerMtuBytes?: number }) => void,
    pending: { sa: EspSa; innerMtuBytes?: number } | null,
  ): StagePackets {
    const tr = stage.transform!;
    const ip = (pkts: StagePackets): Uint8Array[] =>
      pkts.linktype === LINKTYPE_IPV4 ? pkts.packets : pkts.packets.map((f) => vxlanOrEthernetIp(f));
    switch (tr.kind) {
      case 'vxlan-decap': {
        const inner = prev.packets.map((f) => vxlanDecap(f, { vni: tr.vni }).innerFrame);
        return { stage: stage.name, linktype: LINKTYPE_ETHERNET, packets: inner.map((f) => f.slice()) };
      }
      case 'dnat44':
        return {
          stage: stage.name,
          linktype: LINKTYPE_IPV4,
          packets: ip(prev).map((p) => dnat44(p, { match: tr.match, rewrite: tr.rewrite })),
        };
      case 'esp-encrypt': {
        let sa = sas.get(stage.name);
        if (!sa) {
          sa = this.saFor(tr.sa);
          sas.set(stage.name, sa);
        }
        setPending({ sa, innerMtuBytes: tr.sa.innerMtuBytes });
        const espPackets = ip(prev).flatMap(
          (p) =>
            encryptForWire(sa, p, { innerMtuBytes: tr.sa.innerMtuBytes, wireMtuBytes: 65535 }).espPackets,
        );
        return { stage: stage.name, linktype: LINKTYPE_IPV4, packets: espPackets };
      }
      case 'fragment':
        return {
          stage: stage.name,
          linktype: LINKTYPE_IPV4,
          packets: ip(prev).flatMap((p) => fragment(p, { mtuBytes: tr.mtuBytes })),
        };
      case 'esp-decrypt': {
        if (!pending)
          throw new ChainprobeError(
            'E_CONFIG',
            `stage "${stage.name}" decrypts ESP, but no earlier stage encrypts`,
            true,
          );
        return {
          stage: stage.name,
          linktype: LINKTYPE_IPV4,
          packets: decryptFromWire(pending.sa, ip(prev)).inner,
        };
      }
    }
  }
}

/** The IPv4 packet of an Ethernet frame (inner frames after decap carry no VXLAN). */
function vxlanOrEthernetIp(frame: Uint8Array): Uint8Array {
  const off = ethernetIpv4Offset(frame);
  if (off < 0)
    throw new ChainprobeError('E_CONFIG', 'a stage expected an IPv4 packet inside an Ethernet frame', true);
  return frame.subarray(off, off + ((frame[off + 2] << 8) | frame[off + 3]));
}
