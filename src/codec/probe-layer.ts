/**
 * The probe header (probe.ts) as a dissector layer: found heuristically on UDP ports with no binding (the
 * magic "CPRB"), so the probe needs no port of its own. Kept apart from probe.ts, which owns the format.
 */
import { readU32 } from './bytes.ts';
import { type LayerSpec, NEXT_END } from './layer.ts';
import { PROBE_MAGIC, probeStatus, readProbe, verifyPayload } from './probe.ts';

export const probeLayer: LayerSpec = {
  name: 'probe',
  fields: {
    magic: { offset: 0, bytes: 4 },
    runId: { offset: 8, bytes: 4 },
    flowId: { offset: 12, bytes: 4 },
    seq: { offset: 16, bytes: 4 },
  },
  bindings: [{ table: 'udpHeuristic', value: 0 }],
  matches: (frame, off, end) => end - off >= 4 && readU32(frame, off) === PROBE_MAGIC,
  dissect(d) {
    const off = d.cursor;
    const status = probeStatus(d.frame, off, d.end - off);
    d.probeOffset = off;
    d.probeLength = d.end - off;
    d.probeStatus = status;
    d.push(status === 'ok' ? d.ids.probe : d.ids.payload, off, d.end - off);
    return NEXT_END;
  },
  describe(d, i) {
    const o = d.offset[i];
    const n = d.length[i];
    const p = readProbe(d.frame, o);
    const check = verifyPayload(d.frame, o, n);
    return `Probe run ${p.runId}, flow ${p.flowId}, seq ${p.seq}, tx ${p.txTimeNs} ns, ${n} bytes, ${check.ok ? 'padding ok' : check.reason}`;
  },
};
