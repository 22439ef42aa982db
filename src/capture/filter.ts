/**
 * BPF filters that keep only this run's traffic at a capture point, derived from the profile by following
 * the stage transforms from the injected VXLAN down to the stage captured there:
 *   VXLAN (outer UDP to dst:4789 with the VNI) → inner IPv4 UDP (after decap, NAT rewrites the destination)
 *   → ESP between the tunnel endpoints (raw proto 50 or UDP 4500, matched by SPI) → inner again after decrypt.
 * Non-first IPv4 fragments carry no ports, so each filter also keeps fragments between the same addresses.
 */
import type { Profile } from '../chain/profile.ts';
import { stageIndex } from '../chain/profile.ts';
import type { FieldSpec } from '../codec/layer.ts';
import { layerSpec } from '../codec/stack.ts';
import { UDP_HEADER_BYTES } from '../codec/udp.ts';
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Transport } from '../transport/transport.ts';

/** Non-first fragments (offset ≠ 0): libpcap's udp[]/ports never match them. */
const NON_FIRST_FRAGMENT = 'ip[6:2] & 0x1fff != 0';

type Layer =
  | { kind: 'vxlan' }
  | { kind: 'inner'; srcIp: string; dstIp: string; srcPort: number; dstPort: number }
  | { kind: 'esp'; srcIp: string; dstIp: string; spi: number; udp?: { srcPort: number; dstPort: number } };

/**
 * A BPF test on a header field of the layer right after UDP, read from the layer registry: BPF loads 1, 2
 * or 4 bytes, so a 3-byte field (the VNI) is the top of a 4-byte load, masked.
 */
function udpPayloadFieldEquals(field: FieldSpec | undefined, value: number): string {
  if (!field || field.bytes > 4)
    throw new Error('BPF: field missing from the layer registry or wider than 4 bytes');
  const load = field.bytes === 3 ? 4 : field.bytes;
  const at = UDP_HEADER_BYTES + field.offset;
  if (load === field.bytes) return `udp[${at}:${load}] = ${value >>> 0}`;
  const shift = 8 * (load - field.bytes);
  const mask = (((2 ** (8 * field.bytes) - 1) * 2 ** shift) >>> 0).toString(16);
  return `udp[${at}:${load}] & 0x${mask} = ${(value * 2 ** shift) >>> 0}`;
}

/** What the packets look like at a stage, following the transforms. */
export function layerAtStage(profile: Profile, stageName: string): Layer {
  const end = stageIndex(profile, stageName);
  const { inner } = profile.traffic;
  let current: Layer = { kind: 'vxlan' };
  // The inner packet as it is now (NAT may rewrite it while it is inside ESP later).
  const inn = { srcIp: inner.srcIp, dstIp: inner.dstIp, srcPort: inner.srcPort, dstPort: inner.dstPort };
  for (let i = 1; i <= end; i++) {
    const t = profile.stages[i].transform;
    if (!t) continue;
    switch (t.kind) {
      case 'vxlan-decap':
        current = { kind: 'inner', ...inn };
        break;
      case 'dnat44':
        if (inn.dstIp === t.match.dstIp && inn.dstPort === t.match.dstPort) {
          inn.dstIp = t.rewrite.dstIp;
          inn.dstPort = t.rewrite.dstPort;
        }
        if (current.kind === 'inner') current = { kind: 'inner', ...inn };
        break;
      case 'esp-encrypt': {
        const enc = t.sa.encapsulation;
        current = {
          kind: 'esp',
          srcIp: t.sa.tunnel.srcIp,
          dstIp: t.sa.tunnel.dstIp,
          spi: t.sa.spi,
          ...(enc.kind === 'udp' ? { udp: { srcPort: enc.srcPort, dstPort: enc.dstPort } } : {}),
        };
        break;
      }
      case 'esp-decrypt':
        current = { kind: 'inner', ...inn };
        break;
      case 'fragment':
        break; // same packets, maybe in pieces: every filter keeps fragments
    }
  }
  return current;
}

/**
 * `flowPorts`: a flow-export run (run/flow-frames.ts) — its inner datagrams go to these ports, and after the
 * NAT to whatever collector address the chain maps them to: inner stages keep them by port alone.
 */
export function filterForStage(
  profile: Profile,
  stageName: string,
  o: { flowPorts?: readonly number[] } = {},
): string {
  const layer = layerAtStage(profile, stageName);
  switch (layer.kind) {
    case 'vxlan': {
      const o = profile.traffic.outer;
      const vni = udpPayloadFieldEquals(layerSpec('vxlan').fields?.vni, o.vni);
      return `ip and dst host ${o.dstIp} and ((udp dst port ${o.dstPort} and ${vni}) or (src host ${o.srcIp} and ${NON_FIRST_FRAGMENT}))`;
    }
    case 'inner': {
      if (o.flowPorts?.length)
        return `ip and ((${[...new Set(o.flowPorts)].map((p) => `udp dst port ${p}`).join(' or ')}) or (${NON_FIRST_FRAGMENT}))`;
      // by destination only: a NAT that rewrites the source (what the source-preservation check exists
      // to catch) must not make the capture hide the probes and turn a rewrite into "loss"
      return `ip and dst host ${layer.dstIp} and ((udp dst port ${layer.dstPort}) or (${NON_FIRST_FRAGMENT}))`;
    }
    case 'esp': {
      const spi = layer.spi >>> 0;
      const esp = layer.udp
        ? // RFC 3948: the SPI is the first 4 bytes of the UDP payload (IKE there starts with a zero non-ESP marker).
          `udp src port ${layer.udp.srcPort} and udp dst port ${layer.udp.dstPort} and ${udpPayloadFieldEquals(layerSpec('esp').fields?.spi, spi)}`
        : `ip proto 50 and ip[6:2] & 0x1fff = 0 and ip[((ip[0] & 0xf) << 2):4] = ${spi}`;
      return `ip and src host ${layer.srcIp} and dst host ${layer.dstIp} and ((${esp}) or (${NON_FIRST_FRAGMENT}))`;
    }
  }
}

/** Compile a filter with `tcpdump -d` (where the capture will run, by default here) → E_CAPTURE_FAILED if invalid. */
export async function checkFilter(
  filter: string,
  transport: Transport = new LocalTransport(),
): Promise<void> {
  const r = await transport.run(['tcpdump', '-d', filter], { timeoutMs: 10_000 });
  if (r.exitCode !== 0)
    throw new ChainprobeError(
      'E_CAPTURE_FAILED',
      `BPF filter does not compile (${transport.description}): ${r.stderr.trim()}`,
      true,
      { filter },
    );
}
