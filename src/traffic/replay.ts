/**
 * Replayed capture as a payload kind: the UDP payloads of a user's capture (e.g. real exporters' traffic),
 * sent again one after the other from this exporter's address, unchanged — the analyser follows them by
 * fingerprint (analyze/identify). The payloads come in `ExporterOptions.capture`: `run --replay FILE` reads
 * them with capture-payloads.ts and gives each exporter its share of one destination port's payloads
 * (run/flow-frames.ts).
 */
import type { ExporterOptions, FlowExporter, PayloadKind } from './exporter.ts';

export function createReplayExporter(o: ExporterOptions): FlowExporter {
  const mine = o.capture ?? [];
  if (mine.length === 0) throw new RangeError('replay: the capture has no UDP payloads to replay');
  let next = 0;
  return {
    kind: 'replay',
    srcIp: o.srcIp,
    identity: o.index,
    // (not Math.max(...): a spread of a big capture's lengths overflows the stack)
    maxPayloadBytes: mine.reduce((m, p) => Math.max(m, p.length), 0),
    write(buf, offset) {
      const p = mine[next];
      next = next + 1 === mine.length ? 0 : next + 1;
      buf.set(p, offset);
      return p.length;
    },
  };
}

export const replayKind: PayloadKind = {
  name: 'replay',
  defaultPort: 2055,
  createExporter: createReplayExporter,
};
