/**
 * A profile describes one chain under test: how traffic is built, what each stage of the chain does to
 * it (the oracle), where the hops live (transports) and where packets are captured.
 *
 * The stage list is ordered: stage[0] is what the injector sends; every later stage names the transform
 * that turns the previous stage's packets into its own. The same transforms build traffic (`craft`) and
 * predict/undo what each hop did (`analyze`), so the profile *is* the oracle.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const ipv4 = z.string().regex(IPV4, 'an IPv4 address like 10.10.10.5');
const cidr = z
  .string()
  .regex(/^[\d.]+\/(3[0-2]|[12]?\d)$/, 'an IPv4 prefix like 172.20.0.0/16')
  .refine((s) => IPV4.test(s.split('/')[0]), 'an IPv4 prefix like 172.20.0.0/16');
const mac = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'a MAC address like 02:00:00:0a:0a:01');
const port = z.number().int().min(0).max(65535);
const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `${bytes} bytes as ${bytes * 2} hex digits`);
const name = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a lower-case name like "security"');

export const TransportSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }).strict(),
  z.object({ kind: z.literal('netns'), namespace: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('docker'),
      container: z.string().min(1),
      /** Docker engine socket, e.g. unix:///run/docker.sock (default: DOCKER_HOST or the docker default). */
      dockerHost: z.string().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ssh'),
      host: z.string().min(1),
      port: port.default(22),
      username: z.string().min(1),
      /** Path to a private key; omit to use the SSH agent (SSH_AUTH_SOCK). */
      privateKeyPath: z.string().optional(),
      /** Host key check: a known_hosts file, or a pinned "SHA256:..." fingerprint. One is required. */
      knownHostsPath: z.string().optional(),
      hostKeyFingerprint: z
        .string()
        .regex(/^SHA256:[A-Za-z0-9+/]+=*$/)
        .optional(),
      /** Run remote commands through sudo (non-interactive). */
      sudo: z.boolean().default(false),
      readyTimeoutMs: z.number().int().positive().default(10_000),
    })
    .strict()
    .refine((s) => s.knownHostsPath || s.hostKeyFingerprint, {
      message: 'an SSH hop needs knownHostsPath or hostKeyFingerprint: host keys are always verified',
    }),
]);
export type TransportSpec = z.infer<typeof TransportSpec>;

/** An AES-GCM-128 SA. The key is either in the profile (lab keys) or supplied at run time (IKE-negotiated). */
export const EspSaSpec = z
  .object({
    spi: z.number().int().min(256).max(0xffffffff),
    algorithm: z.literal('aes-gcm-128'),
    key: z.union([hex(16), z.object({ from: z.literal('runtime') }).strict()]),
    /** RFC 4106 4-byte salt (VPP's default is 0). Ignored when the key comes from run time (charon gives key+salt). */
    salt: hex(4).default('00000000'),
    tunnel: z.object({ srcIp: ipv4, dstIp: ipv4 }).strict(),
    /** ESP directly in IP (protocol 50), or in UDP (RFC 3948 NAT-T), as strongSwan's libipsec always does. */
    encapsulation: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('none') }).strict(),
      z.object({ kind: z.literal('udp'), srcPort: port, dstPort: port }).strict(),
    ]),
    /** Inner packets are fragmented to this size *before* encryption (libipsec's fixed TUN MTU). Omit for VPP. */
    innerMtuBytes: z.number().int().min(576).max(65535).optional(),
    ttl: z.number().int().min(1).max(255).default(64),
  })
  .strict();
export type EspSaSpec = z.infer<typeof EspSaSpec>;

export const TransformSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('vxlan-decap'), vni: z.number().int().min(0).max(0xffffff) }).strict(),
  z
    .object({
      kind: z.literal('dnat44'),
      match: z.object({ dstIp: ipv4, dstPort: port }).strict(),
      rewrite: z.object({ dstIp: ipv4, dstPort: port }).strict(),
    })
    .strict(),
  z.object({ kind: z.literal('esp-encrypt'), sa: EspSaSpec }).strict(),
  z.object({ kind: z.literal('fragment'), mtuBytes: z.number().int().min(68).max(65535) }).strict(),
  /** Decrypt (and reassemble) at the far end: the delivered packet is the post-NAT inner packet. */
  z
    .object({ kind: z.literal('esp-decrypt') })
    .strict(),
]);
export type TransformSpec = z.infer<typeof TransformSpec>;

export const StageSpec = z
  .object({ name, transform: TransformSpec.optional(), description: z.string().optional() })
  .strict();
export type StageSpec = z.infer<typeof StageSpec>;

/** A hop that is an FD.io VPP instance: how to reach its CLI through the hop's transport. */
export const VppHopSpec = z
  .object({
    /** VPP's CLI socket as seen where the hop's transport runs commands (unix { cli-listen … }). */
    cli: z.string().min(1).default('/run/vpp/cli.sock'),
    /** the vppctl binary there */
    vppctl: z.string().min(1).default('vppctl'),
    /** VPP's names of the hop's ingress and egress interfaces (faults: `down` acts on ingress, `mtu` on egress). */
    ingress: z.string().min(1).optional(),
    egress: z.string().min(1).optional(),
  })
  .strict();
export type VppHopSpec = z.infer<typeof VppHopSpec>;

export const HopSpec = z
  .object({
    name,
    description: z.string().optional(),
    transport: TransportSpec,
    vpp: VppHopSpec.optional(),
  })
  .strict();
export type HopSpec = z.infer<typeof HopSpec>;

export const CapturePointSpec = z
  .object({
    name,
    /** The hop whose transport runs the capture. */
    hop: name,
    interface: z.string().min(1),
    /** Which stage's packets are seen here. */
    stage: name,
    direction: z.enum(['in', 'out', 'inout']).default('inout'),
    snaplenBytes: z.number().int().min(64).max(262144).default(262144),
    /** Which capture backend takes this point (src/capture/backends.ts): "tcpdump" (libpcap through the
     *  hop's transport) unless the interface is only visible inside a data plane (e.g. VPP's pcap trace). */
    backend: name.default('tcpdump'),
  })
  .strict();
export type CapturePointSpec = z.infer<typeof CapturePointSpec>;

export const ProfileSpec = z
  .object({
    schemaVersion: z.literal(1),
    name,
    description: z.string().optional(),
    /** Which lab driver manages this chain (src/drivers/registry.ts): up/down/status/faults/keys/counters.
     *  "refchain" is the embedded reference chain; "external" a chain chainprobe only measures. */
    driver: name.default('refchain'),
    /** Traffic may only be sent to these prefixes (safety interlock). */
    labPrefixes: z.array(cidr).min(1),
    traffic: z
      .object({
        outer: z
          .object({
            srcMac: mac,
            dstMac: mac,
            srcIp: ipv4,
            dstIp: ipv4,
            /** Outer UDP source ports cycle through [srcPortBase, srcPortBase + srcPortCount). */
            srcPortBase: port,
            srcPortCount: z.number().int().min(1).max(65536).default(1),
            dstPort: port,
            vni: z.number().int().min(0).max(0xffffff),
            vxlanFlags: z.number().int().min(0).max(255),
            /** RFC 7348 allows a zero outer UDP checksum; VPP and Linux send zero. */
            udpChecksum: z.boolean().default(false),
            ttl: z.number().int().min(1).max(255).default(64),
          })
          .strict(),
        inner: z
          .object({
            srcMac: mac,
            dstMac: mac,
            srcIp: ipv4,
            dstIp: ipv4,
            srcPort: port,
            dstPort: port,
            ttl: z.number().int().min(1).max(255).default(64),
            /** Set DF on the inner packet: a hop whose MTU is too small must then drop it (and count it). */
            dontFragment: z.boolean().default(false),
          })
          .strict(),
        /**
         * Flow export's destination port per payload kind where the chain expects another than the kind's
         * default (NetFlow/IPFIX 2055, sFlow 6343), e.g. { "ipfix": 4739 }: the chain's NAT rules are per port.
         */
        flowPorts: z.record(z.string().min(1), port).optional(),
      })
      .strict(),
    stages: z.array(StageSpec).min(1),
    hops: z.array(HopSpec).min(1),
    injector: z
      .object({
        transport: TransportSpec,
        interface: z.string().min(1),
        mtuBytes: z.number().int().min(576).max(65535).optional(),
      })
      .strict(),
    captures: z.array(CapturePointSpec),
    acceptance: z
      .object({
        minDeliveryRatio: z.number().min(0).max(1).default(0.9),
        maxLatencyP99Ms: z.number().positive().optional(),
      })
      .strict()
      .default({ minDeliveryRatio: 0.9 }),
  })
  .strict()
  .superRefine((p, ctx) => {
    const stages = new Set(p.stages.map((s) => s.name));
    const hops = new Set(p.hops.map((h) => h.name));
    if (p.stages[0].transform) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages', 0, 'transform'],
        message: 'the first stage is what is injected: it has no transform',
      });
    }
    p.captures.forEach((c, i) => {
      if (!stages.has(c.stage))
        ctx.addIssue({
          code: 'custom',
          path: ['captures', i, 'stage'],
          message: `unknown stage "${c.stage}"; stages are ${[...stages].join(', ')}`,
        });
      if (!hops.has(c.hop))
        ctx.addIssue({
          code: 'custom',
          path: ['captures', i, 'hop'],
          message: `unknown hop "${c.hop}"; hops are ${[...hops].join(', ')}`,
        });
    });
    const dupes = (xs: string[]) => xs.filter((x, i) => xs.indexOf(x) !== i);
    for (const [field, names] of [
      ['stages', p.stages.map((s) => s.name)],
      ['hops', p.hops.map((h) => h.name)],
      ['captures', p.captures.map((c) => c.name)],
    ] as const) {
      for (const d of dupes([...names]))
        ctx.addIssue({ code: 'custom', path: [field], message: `duplicate name "${d}"` });
    }
  });
export type Profile = z.infer<typeof ProfileSpec>;

/** A profile that failed validation: every problem, each with its JSON path, in one message. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(
      `invalid profile ${source}:\n${problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n')}`,
    );
  }
}

export function parseProfile(value: unknown, source = '<inline>'): Profile {
  const r = ProfileSpec.safeParse(value);
  if (r.success) return r.data;
  throw new ProfileError(
    source,
    r.error.issues.map((i) => ({
      path: i.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, ''),
      message: i.message,
    })),
  );
}

export function loadProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ProfileError(path, [{ path: '', message: `cannot read file: ${(e as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(path, [{ path: '', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return parseProfile(json, path);
}

export function stageIndex(profile: Profile, stage: string): number {
  const i = profile.stages.findIndex((s) => s.name === stage);
  if (i < 0)
    throw new ProfileError(profile.name, [
      {
        path: 'stages',
        message: `no stage "${stage}" (stages: ${profile.stages.map((s) => s.name).join(', ')})`,
      },
    ]);
  return i;
}
