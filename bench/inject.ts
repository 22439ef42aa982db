/**
 * Injector throughput on a veth pair between two namespaces (same run, ~3 s per tool, top speed,
 * 64-byte-payload Ethernet/IPv4/UDP frames = 106 bytes): packets counted by the *receiving* interface's rx
 * counter (ip -s -j link) divided by the sender's own send time. Peers: tcpreplay --topspeed (-K, loop)
 * and trafgen (netsniff-ng, one CPU). Targets: fastest chainprobe injector ≥ tcpreplay; the Node raw
 * injector (native/rawtx: one sendmmsg per 64 packets) ≥ 80 % of tcpreplay; the raw-socket fallback (one
 * sendto per packet, CHAINPROBE_NO_NATIVE=1) is measured too, for comparison. Needs root.
 *
 * On a veth the receiving side's stack runs in the sender's softirq, on the sender's CPU, so it is part of
 * every sender's time. The raw injector's packets are routed: their destination MAC is the receiver's, and
 * the receiver takes them through IP, UDP and ICMP port-unreachable. The frame the l2/trafgen/tcpreplay
 * figures send is addressed to 02:00:00:31:fd:02, not the receiver, which drops it at ip_rcv (PACKET_OTHERHOST),
 * a much shorter path. So the raw injector's ratio is stated against tcpreplay sending the same frame the
 * raw injector puts on the wire (addressed to the receiver); the unaddressed-frame ratio is kept beside it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  framesFromList,
  type Injector,
  L2Injector,
  RawInjector,
  TcpreplayInjector,
} from '../src/inject/index.ts';
import { rawtxUnavailable } from '../src/inject/rawtx.ts';
import { openNetns } from '../src/transport/netns.ts';
import { ethernet, ipv4Udp } from '../test/inject/frames.ts';
import { rxPackets, vethLab } from '../test/inject/netlab.ts';
import { type BenchFigure, withPeer } from './figure.ts';

const SECONDS = 3;
const LAB = ['172.31.0.0/16'];

export default async function bench(): Promise<BenchFigure[]> {
  if (process.getuid?.() !== 0) throw new Error('bench inject needs root (namespaces, raw sockets)');
  const lab = await vethLab('cpt-bench', 253, 1500);
  const dir = mkdtempSync(join(tmpdir(), 'cpt-bench-inj-'));
  try {
    const t = await openNetns(lab.a);
    const pkt = ipv4Udp('172.31.99.7', lab.ipB, 64);
    const frame = ethernet('02:00:00:31:fd:02', '02:00:00:31:fd:01', pkt);
    // The frame the raw injector's packet becomes on the wire: addressed to the receiver's MAC.
    const link = async (ns: string, ifname: string) =>
      (
        JSON.parse(
          String((await execa('ip', ['-n', ns, '-j', 'link', 'show', 'dev', ifname])).stdout),
        ) as Array<{
          address: string;
        }>
      )[0].address;
    const addressed = ethernet(await link(lab.b, lab.ifB), await link(lab.a, lab.ifA), pkt);

    /** Receiver-side pps: rx counter delta / sender's elapsed seconds. */
    const measure = async (send: () => Promise<number /* elapsed s */>) => {
      const before = await rxPackets(lab.b, lab.ifB);
      const elapsedS = await send();
      await new Promise((r) => setTimeout(r, 200));
      const after = await rxPackets(lab.b, lab.ifB);
      return elapsedS > 0 ? (after - before) / elapsedS : 0;
    };
    const viaInjector = (inj: Injector, kind: 'ethernet' | 'ipv4', f: Uint8Array) => async () => {
      const s = await inj.inject(framesFromList(kind, [f]), { durationS: SECONDS });
      return s.elapsedNs / 1e9;
    };

    const tcpreplay = await measure(
      viaInjector(
        new TcpreplayInjector({ interface: lab.ifA, labPrefixes: LAB, transport: t }),
        'ethernet',
        frame,
      ),
    );
    const tcpreplaySameFrame = await measure(
      viaInjector(
        new TcpreplayInjector({ interface: lab.ifA, labPrefixes: LAB, transport: t }),
        'ethernet',
        addressed,
      ),
    );

    const cfg = join(dir, 'frame.cfg');
    writeFileSync(cfg, `{ ${[...frame].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')} }\n`);
    const trafgen = await measure(async () => {
      const r = await execa(
        'ip',
        [
          'netns',
          'exec',
          lab.a,
          'timeout',
          '-s',
          'INT',
          String(SECONDS),
          'trafgen',
          '--dev',
          lab.ifA,
          '--conf',
          cfg,
          '--cpus',
          '1',
        ],
        {
          reject: false,
          all: true,
        },
      );
      const m = /(\d+) sec,\s*(\d+) usec on CPU/.exec(String(r.all));
      if (!m) throw new Error(`trafgen gave no statistics: ${String(r.all).slice(-500)}`);
      return Number(m[1]) + Number(m[2]) / 1e6;
    });

    const l2 = await measure(
      viaInjector(new L2Injector({ interface: lab.ifA, labPrefixes: LAB, transport: t }), 'ethernet', frame),
    );
    const l2Stream = await measure(async () => {
      const buf = frame.slice();
      const view = new DataView(buf.buffer);
      const s = await new L2Injector({ interface: lab.ifA, labPrefixes: LAB, transport: t }).inject(
        {
          kind: 'ethernet',
          maxLengthBytes: buf.length,
          next: (i) => {
            view.setUint32(42, i);
            return buf;
          },
        },
        { durationS: SECONDS },
      );
      return s.elapsedNs / 1e9;
    });
    /** The raw injector with the batched addon (default) or forced onto raw-socket; checks which it used. */
    const rawVia = (noNative: boolean) => async () => {
      const saved = process.env.CHAINPROBE_NO_NATIVE;
      if (noNative) process.env.CHAINPROBE_NO_NATIVE = '1';
      else delete process.env.CHAINPROBE_NO_NATIVE;
      try {
        const s = await new RawInjector({ labPrefixes: LAB, transport: t }).inject(
          framesFromList('ipv4', [pkt]),
          {
            durationS: SECONDS,
          },
        );
        const want = noNative ? 'sendto' : 'sendmmsg';
        if (s.details?.sender !== want)
          throw new Error(
            `raw injector sent with ${String(s.details?.sender)}, not ${want}${noNative ? '' : ` (${rawtxUnavailable() ?? 'worker fell back'})`}`,
          );
        return s.elapsedNs / 1e9;
      } finally {
        if (saved === undefined) delete process.env.CHAINPROBE_NO_NATIVE;
        else process.env.CHAINPROBE_NO_NATIVE = saved;
      }
    };
    const raw = await measure(rawVia(false));
    const rawSendto = await measure(rawVia(true));

    const tr = { name: 'tcpreplay --topspeed', value: tcpreplay };
    const trSame = { name: 'tcpreplay --topspeed, same frame as raw on the wire', value: tcpreplaySameFrame };
    const notes = 'rx counter of the receiving veth / sender time; 106-byte frames; 2-core VM, numbers drift';
    return [
      withPeer(
        {
          group: 'inject',
          name: 'l2 injector (AF_PACKET sendmmsg helper, frame set cycled)',
          unit: 'pps',
          value: l2,
          peer: tr,
          target: '>= 1x tcpreplay',
          notes,
        },
        1,
      ),
      withPeer({
        group: 'inject',
        name: 'l2 injector, per-frame template streamed from Node',
        unit: 'pps',
        value: l2Stream,
        peer: tr,
        notes,
      }),
      withPeer(
        {
          group: 'inject',
          name: 'raw injector (Node + native/rawtx, one sendmmsg per 64 packets)',
          unit: 'pps',
          value: raw,
          peer: trSame,
          target: '>= 0.8x tcpreplay (same frames on the wire)',
          notes: `${notes}; receiver takes both through IP/UDP/ICMP`,
        },
        0.8,
      ),
      withPeer({
        group: 'inject',
        name: 'raw injector (Node + native/rawtx) vs tcpreplay with the unaddressed frame',
        unit: 'pps',
        value: raw,
        peer: tr,
        notes: `${notes}; tcpreplay's frame is dropped at the receiver's ip_rcv (other host), raw's is not`,
      }),
      withPeer({
        group: 'inject',
        name: 'raw injector, raw-socket fallback (one sendto per packet, CHAINPROBE_NO_NATIVE=1)',
        unit: 'pps',
        value: rawSendto,
        peer: trSame,
        notes,
      }),
      withPeer({
        group: 'inject',
        name: 'tcpreplay --topspeed, frame addressed to the receiver (peer of raw)',
        unit: 'pps',
        value: tcpreplaySameFrame,
        peer: tr,
        notes,
      }),
      withPeer({
        group: 'inject',
        name: 'tcpreplay --topspeed (peer)',
        unit: 'pps',
        value: tcpreplay,
        peer: { name: 'trafgen (1 CPU)', value: trafgen },
        notes,
      }),
      { group: 'inject', name: 'trafgen, 1 CPU (near-physical peer)', unit: 'pps', value: trafgen, notes },
    ];
  } finally {
    await lab.down();
    rmSync(dir, { recursive: true, force: true });
  }
}
