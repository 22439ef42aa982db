/**
 * `l2` injector: whole Ethernet frames (e.g. the VXLAN packet with its Ethernet header, as VPP's
 * af_packet interface expects) sent by the native AF_PACKET helper with sendmmsg batches and an absolute
 * schedule — chainprobe's fastest injector. Runs through any transport whose host can execute the helper
 * (this host, or a namespace of it: `ip netns exec NS …`).
 */

import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Transport } from '../transport/transport.ts';
import { afpacketHelper } from './native.ts';
import { planInjection } from './plan.ts';
import { assertFitsMtu, interfaceInfo, requireRoot, requireUp } from './preflight.ts';
import { assertNotHostNamespace, assertSafeDestinations, type SafetyOptions } from './safety.ts';
import { runFramedSender, senderArgs, useLoopMode } from './sender.ts';
import type { FrameSource, InjectOptions, Injector, InjectStats } from './types.ts';

export interface L2InjectorOptions extends SafetyOptions {
  /** Egress interface, at the transport's place. */
  interface: string;
  labPrefixes: readonly string[];
  /** Where to run (default: this host). */
  transport?: Transport;
  /** PACKET_QDISC_BYPASS (default true): skip the egress qdisc like trafgen does. */
  qdiscBypass?: boolean;
  /** Frames per sendmmsg (default 64). */
  batch?: number;
}

export class L2Injector implements Injector {
  readonly name = 'l2' as const;
  private readonly transport: Transport;

  constructor(private readonly o: L2InjectorOptions) {
    this.transport = o.transport ?? new LocalTransport();
  }

  async inject(frames: FrameSource, opts: InjectOptions = {}): Promise<InjectStats> {
    if (frames.kind !== 'ethernet')
      throw new ChainprobeError(
        'E_CONFIG',
        'the l2 injector sends Ethernet frames; use the raw injector for IPv4 packets',
        true,
      );
    const plan = planInjection(frames, opts);
    const guard = assertSafeDestinations(frames, this.o.labPrefixes, this.o);
    await requireRoot(this.transport, 'the AF_PACKET injector');
    await assertNotHostNamespace(this.transport, this.o);
    const info = await interfaceInfo(this.transport, this.o.interface);
    requireUp(info);
    assertFitsMtu(info, frames.maxLengthBytes, 'ethernet');
    const helper = await afpacketHelper();
    const loop = useLoopMode(frames, plan);
    const argv = [
      helper,
      '-i',
      this.o.interface,
      '-B',
      String(this.o.batch ?? 64),
      ...senderArgs(plan, loop),
    ];
    if (this.o.qdiscBypass !== false) argv.push('-q');
    return runFramedSender(this.transport, argv, frames, plan, loop, guard, opts, 'l2');
  }
}
