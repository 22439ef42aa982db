/**
 * A real FD.io VPP chain for tests: three VPP instances (vxlan, security, destination) in network
 * namespaces, wired by veths, configured the way the users configure their Docker chain (issue 10):
 *
 *   vp-gen gen0 ─ vx0 [VPP vxlan: host-vx0, vxlan_tunnel0 VNI 100, bd 10 + BVI loop0] host-vx1 ─
 *   ─ sec0 [VPP security: NAT44-ED out, ipip0 + tunnel protect SPI 1000, host-sec1 MTU 1400] ─
 *   ─ dst0 [VPP destination: reassembly, decrypt, host-dst1] ─ col0 vp-col (the collector, 172.20.102.10)
 *
 * VPP itself is not built or installed by the project: tests use it when CHAINPROBE_VPP names an
 * installation prefix (bin/vpp, bin/vppctl, bin/vat2) and are skipped otherwise.
 *
 * Choices forced by this machine, each measured (see README "Real VPP"):
 *  - af_packet `v2` rings (TPACKET_V3 host-interfaces abort VPP 24.10 here on admin-up);
 *  - no `create tap` (no /dev/vhost-net in this kernel): the destination reaches the collector namespace
 *    over an af_packet veth instead;
 *  - ip4 full reassembly accepts at most 3 fragments per datagram by default, and an 8000-byte payload
 *    at MTU 1400 is 6: the destination raises it to 16 through the binary API (vat2; there is no CLI).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Vppctl } from '../../src/drivers/vpp/vppctl.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import { deleteNamespace } from '../transport/lab.ts';

export const VPP_PREFIX = process.env.CHAINPROBE_VPP ?? '';
export const vppAvailable = (): boolean => VPP_PREFIX !== '';

export type VppInstance = 'vx' | 'sec' | 'dst';
export const NAMESPACES = ['vp-gen', 'vp-vx', 'vp-sec', 'vp-dst', 'vp-col'] as const;
const RUN_DIR = '/run/chainprobe-vpplab';

/** The lab's SA keys: test keys, also written in fixtures/vpp-lab.json (never a production key). */
export const LAB_SA = {
  out: { id: 1000, spi: 1000, key: 'fedcba9876543210abcdef0123456789' },
  in: { id: 2000, spi: 2000, key: '0123456789abcdeffedcba9876543210' },
};

const VETHS: [string, string, string, string][] = [
  ['vp-gen', 'gen0', 'vp-vx', 'vx0'],
  ['vp-vx', 'vx1', 'vp-sec', 'sec0'],
  ['vp-sec', 'sec1', 'vp-dst', 'dst0'],
  ['vp-dst', 'dst1', 'vp-col', 'col0'],
];

const sa = (s: { id: number; spi: number; key: string }) =>
  `ipsec sa add ${s.id} spi ${s.spi} esp crypto-alg aes-gcm-128 crypto-key ${s.key} salt 0x00000000`;

/** The CLI each instance is configured with: the users' configuration, addresses of the lab. */
export const CONFIG: Record<VppInstance, string[]> = {
  vx: [
    'create host-interface v2 name vx0 hw-addr 02:00:00:14:64:0a',
    'create host-interface v2 name vx1 hw-addr 02:00:00:14:65:01',
    'set interface state host-vx0 up',
    'set interface state host-vx1 up',
    'set interface ip address host-vx0 172.20.100.10/24',
    'set interface ip address host-vx1 172.20.101.1/24',
    'create vxlan tunnel src 172.20.100.10 dst 172.20.100.1 vni 100',
    'create bridge-domain 10',
    'set interface l2 bridge vxlan_tunnel0 10',
    'create loopback interface mac 02:00:00:0a:0a:01',
    'set interface l2 bridge loop0 10 bvi',
    'set interface ip address loop0 10.10.10.1/24',
    'set interface state loop0 up',
    'set interface state vxlan_tunnel0 up',
    'ip route add 10.10.10.10/32 via 172.20.101.2 host-vx1',
    'set ip neighbor host-vx1 172.20.101.2 02:00:00:14:65:02',
  ],
  sec: [
    'create host-interface v2 name sec0 hw-addr 02:00:00:14:65:02',
    'create host-interface v2 name sec1 hw-addr 02:00:00:14:67:01',
    'set interface state host-sec0 up',
    'set interface state host-sec1 up',
    'set interface ip address host-sec0 172.20.101.2/24',
    'set interface ip address host-sec1 172.20.103.1/24',
    'set interface mtu packet 1400 host-sec1',
    'set ip neighbor host-sec1 172.20.103.2 02:00:00:14:67:02',
    sa(LAB_SA.out),
    sa(LAB_SA.in),
    'create ipip tunnel src 172.20.103.1 dst 172.20.103.2',
    `ipsec tunnel protect ipip0 sa-out ${LAB_SA.out.id} sa-in ${LAB_SA.in.id}`,
    'set interface unnumbered ipip0 use host-sec1',
    'set interface state ipip0 up',
    'ip route add 172.20.102.0/24 via ipip0',
    'nat44 plugin enable sessions 100000',
    'set interface nat44 out host-sec0',
    'set interface nat44 in ipip0',
    'nat44 add static mapping udp local 172.20.102.10 2055 external 10.10.10.10 2055',
  ],
  dst: [
    'create host-interface v2 name dst0 hw-addr 02:00:00:14:67:02',
    'create host-interface v2 name dst1 hw-addr 02:00:00:14:66:01',
    'set interface state host-dst0 up',
    'set interface state host-dst1 up',
    'set interface ip address host-dst0 172.20.103.2/24',
    'set interface ip address host-dst1 172.20.102.1/24',
    'set ip neighbor host-dst0 172.20.103.1 02:00:00:14:67:01',
    'set ip neighbor host-dst1 172.20.102.10 02:00:00:14:66:0a',
    sa(LAB_SA.in),
    sa(LAB_SA.out),
    'create ipip tunnel src 172.20.103.2 dst 172.20.103.1',
    `ipsec tunnel protect ipip0 sa-out ${LAB_SA.in.id} sa-in ${LAB_SA.out.id}`,
    'set interface unnumbered ipip0 use host-dst0',
    'set interface state ipip0 up',
    'ip route add 10.10.10.0/24 via ipip0',
  ],
};

/** Faults of the proof in issue 10, as VPP CLI on one instance. */
export const FAULTS = {
  /**
   * NAT the wrong way round (the users' production guide warns about it): inside on the vxlan side,
   * outside on the tunnel, with a pool address. The static mapping still rewrites the destination, but
   * in2out also rewrites the *source* to the pool address: delivered, source not preserved.
   */
  natReversed: {
    instance: 'sec' as VppInstance,
    cli: [
      'set interface nat44 out host-sec0 del',
      'set interface nat44 in ipip0 del',
      'set interface nat44 in host-sec0 out ipip0',
      'nat44 add address 172.20.102.50',
    ],
  },
  /** The vxlan hop's uplink MTU lowered under DF-set probes: ip4 MTU exceeded and DF set. */
  mtuLowered: { instance: 'vx' as VppInstance, cli: ['set interface mtu packet 1000 host-vx1'] },
  /** The security hop's uplink administratively down: VPP drops what it would send there. */
  interfaceDown: { instance: 'sec' as VppInstance, cli: ['set interface state host-sec1 down'] },
};

/** The lab's hops as `chainprobe discover` takes them (name=netns:NS:CLI_SOCKET, in chain order). */
export const LAB_HOPS = { vxlan: 'vx', security: 'sec', destination: 'dst' } as const;

/** `chainprobe discover` over the lab, writing the profile to `out`. */
export async function discoverLab(lab: VppLab, out: string): Promise<void> {
  await execa('node', [
    'bin/chainprobe.js',
    'discover',
    ...Object.entries(LAB_HOPS).flatMap(([hop, i]) => ['--hop', `${hop}=netns:vp-${i}:${lab.cliSocket(i)}`]),
    '--inject',
    'netns:vp-gen:gen0',
    '--vppctl',
    join(VPP_PREFIX, 'bin', 'vppctl'),
    '--out',
    out,
  ]);
}

export interface VppLab {
  vppctl(instance: VppInstance, cli: string): Promise<string>;
  cliSocket(instance: VppInstance): string;
  apiPrefix(instance: VppInstance): string;
  fault(name: keyof typeof FAULTS): Promise<void>;
  down(): Promise<void>;
}

const sh = (cmd: string, args: string[]) => execa(cmd, args, { timeout: 20_000 });

function startupConf(instance: VppInstance): string {
  const dir = join(RUN_DIR, instance);
  const plugins = ['af_packet', 'vxlan', 'nat', 'ping', 'crypto_native', 'crypto_openssl'];
  return [
    // poll-sleep-usec: three polling VPPs on two cores would starve everything else
    `unix { nodaemon cli-listen ${dir}/cli.sock log ${dir}/vpp.log runtime-dir ${dir} poll-sleep-usec 100 }`,
    `api-segment { prefix chainprobe-vpplab-${instance} }`,
    `socksvr { socket-name ${dir}/api.sock }`,
    `statseg { socket-name ${dir}/stats.sock size 32M page-size 4k }`,
    'cpu { main-core 0 }',
    'buffers { buffers-per-numa 16384 page-size 4k }',
    'memory { main-heap-size 256M main-heap-page-size 4k }',
    `plugins { plugin default { disable } ${plugins.map((p) => `plugin ${p}_plugin.so { enable }`).join(' ')} }`,
  ].join('\n');
}

async function waitForSocket(path: string, ms: number): Promise<void> {
  const { existsSync } = await import('node:fs');
  const until = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`VPP did not open ${path} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function labDown(): Promise<void> {
  for (const ns of NAMESPACES) await deleteNamespace(ns); // VPP runs inside: killed with the namespace
  rmSync(RUN_DIR, { recursive: true, force: true });
  for (const i of ['vx', 'sec', 'dst']) {
    for (const f of ['global_vm', 'vpe-api']) rmSync(`/dev/shm/chainprobe-vpplab-${i}-${f}`, { force: true });
  }
}

/** Brings the lab up (tearing down a stale one first). Throws if VPP is not available. */
export async function vppLabUp(): Promise<VppLab> {
  if (!vppAvailable()) throw new Error('CHAINPROBE_VPP is not set');
  await labDown();
  const vppctlBin = join(VPP_PREFIX, 'bin', 'vppctl');
  const cliSocket = (i: VppInstance) => join(RUN_DIR, i, 'cli.sock');
  // the driver's vppctl (src/drivers/vpp/vppctl.ts): the lab's configuration is checked the way runs are
  const host = new LocalTransport();
  const vppctl = (i: VppInstance, cli: string) =>
    new Vppctl(i, host, { cli: cliSocket(i), vppctl: vppctlBin }).exec(cli);
  try {
    for (const ns of NAMESPACES) {
      await sh('ip', ['netns', 'add', ns]);
      await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    }
    for (const [a, ia, b, ib] of VETHS) {
      await sh('ip', ['link', 'add', ia, 'netns', a, 'type', 'veth', 'peer', 'name', ib, 'netns', b]);
      for (const [ns, dev] of [
        [a, ia],
        [b, ib],
      ]) {
        await sh('ip', ['-n', ns, 'link', 'set', dev, 'mtu', '9000', 'up']);
      }
    }
    await sh('ip', ['-n', 'vp-gen', 'link', 'set', 'gen0', 'address', '02:00:00:14:64:01']);
    await sh('ip', ['-n', 'vp-gen', 'addr', 'add', '172.20.100.1/24', 'dev', 'gen0']);
    await sh('ip', [
      '-n',
      'vp-gen',
      'neigh',
      'add',
      '172.20.100.10',
      'lladdr',
      '02:00:00:14:64:0a',
      'dev',
      'gen0',
    ]);
    await sh('ip', ['-n', 'vp-col', 'link', 'set', 'col0', 'address', '02:00:00:14:66:0a']);
    await sh('ip', ['-n', 'vp-col', 'addr', 'add', '172.20.102.10/24', 'dev', 'col0']);
    for (const i of ['vx', 'sec', 'dst'] as VppInstance[]) {
      const dir = join(RUN_DIR, i);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'startup.conf'), startupConf(i));
      // detached: VPP must not inherit a test runner's file descriptors (a held flock would outlive the test)
      // through bash, closing every inherited descriptor above stderr: VPP outlives this call, and a
      // descriptor it inherited (a test runner's flock, a pipe) would be held for as long as VPP runs
      const child = execa(
        'bash',
        [
          '-c',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${f##*/}, not a template
          'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"',
          'vpp-start',
          'ip',
          'netns',
          'exec',
          `vp-${i}`,
          join(VPP_PREFIX, 'bin', 'vpp'),
          '-c',
          join(dir, 'startup.conf'),
        ],
        { detached: true, stdio: 'ignore', reject: false },
      );
      child.unref();
      await waitForSocket(cliSocket(i), 15_000);
    }
    for (const i of ['vx', 'sec', 'dst'] as VppInstance[]) {
      for (const line of CONFIG[i]) await vppctl(i, line);
    }
    // VPP 24.10 reassembles at most 3 fragments per datagram by default; API only (no CLI).
    await execa(join(VPP_PREFIX, 'bin', 'vat2'), [
      '--prefix',
      'chainprobe-vpplab-dst',
      'ip_reassembly_set',
      JSON.stringify({
        timeout_ms: 200,
        max_reassemblies: 1024,
        max_reassembly_length: 16,
        expire_walk_interval_ms: 50,
        is_ip6: false,
        type: 'IP_REASS_TYPE_FULL',
      }),
    ]);
  } catch (e) {
    await labDown();
    throw e;
  }
  return {
    vppctl,
    cliSocket,
    apiPrefix: (i) => `chainprobe-vpplab-${i}`,
    async fault(name) {
      const f = FAULTS[name];
      for (const line of f.cli) await vppctl(f.instance, line);
    },
    down: labDown,
  };
}
