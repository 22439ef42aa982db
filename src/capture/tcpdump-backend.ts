/** The tcpdump capture backend: `tcpdump -U -w -` through each point's transport (capture.ts). */

import { dirname } from 'node:path';
import type { CaptureBackend, CapturePointRequest, CapturePointResult, CaptureSession } from './backend.ts';
import type { Capture } from './capture.ts';
import { startCaptures } from './capture.ts';
import { SegmentedPcap } from './segments.ts';

const KERNEL_CLOCK = {
  source: 'kernel',
  note: 'libpcap ns timestamps from the kernel of the host the point runs on (one clock for every point of one host)',
} as const;

export const tcpdumpBackend: CaptureBackend = {
  name: 'tcpdump',
  async start(points: CapturePointRequest[]): Promise<CaptureSession> {
    const segments = new Map<string, SegmentedPcap>();
    for (const p of points)
      if (p.segmentNs)
        segments.set(
          p.point.name,
          new SegmentedPcap({
            dir: dirname(p.pcapPath),
            point: p.point.name,
            widthNs: p.segmentNs,
            snaplen: p.point.snaplenBytes,
          }),
        );
    const captures: Capture[] = await startCaptures(
      points.map((p) => ({
        name: p.point.name,
        transport: p.transport,
        interface: p.interface,
        direction: p.direction,
        snaplenBytes: p.point.snaplenBytes,
        filter: p.filter,
        bufferKiB: p.bufferKiB,
        ...(segments.has(p.point.name)
          ? { segments: segments.get(p.point.name) }
          : { teePath: p.pcapPath, discardPackets: true }), // the run analyses the teed files
      })),
    );
    return {
      packetCounts: () => new Map(captures.map((c, i) => [points[i].point.name, c.packetCount])),
      segments: () => segments,
      async stop(o): Promise<CapturePointResult[]> {
        const stopped = await Promise.allSettled(captures.map((c) => c.stop(o)));
        return stopped.map((s, i) => ({
          name: points[i].point.name,
          backend: 'tcpdump',
          pcapPath: points[i].pcapPath,
          stats: s.status === 'fulfilled' ? s.value : null,
          ...(s.status === 'rejected' ? { error: (s.reason as Error).message } : {}),
          clock: KERNEL_CLOCK,
          place: `${points[i].interface} at ${points[i].transport.description}`,
          ...(points[i].relocated ? { relocated: points[i].relocated } : {}),
        }));
      },
      async abort() {
        await Promise.allSettled(captures.map((c) => c.abort()));
      },
    };
  },
};
