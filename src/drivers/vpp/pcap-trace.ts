/**
 * The `vpp-pcap` capture backend: VPP's own `pcap trace`, for interfaces tcpdump cannot see (ipip0,
 * loop0, vxlan_tunnel0, tap0 — they exist only inside VPP).
 *
 * VPP's traps, each handled here:
 *  - it keeps 512 bytes per packet unless told otherwise: `max-bytes-per-pkt` is the point's snap length
 *    (VPP accepts 32..9000), so 8000-byte jumbo payloads are kept whole;
 *  - it silently stops at `max` packets: `max` is sized from what the run expects at this point (with
 *    headroom), and a trace that reached it is reported as capture-incomplete, never as chain loss;
 *  - it writes the file only on `pcap trace off`, always under its own /tmp: the file is fetched as bytes
 *    through the hop's transport (docker exec, netns, SSH) and then deleted there;
 *  - its timestamps come from VPP's CPU clock, not the kernel's: the point's clock note says so, and the
 *    offset to a kernel-stamped point is estimated from packets both saw (clock-offset.ts);
 *  - one trace per VPP instance, and the file does not say which interface a packet came from: so one
 *    vpp-pcap point per VPP hop, tracing exactly its interface (`intfc NAME`).
 */
import { rmSync } from 'node:fs';
import type {
  CaptureBackend,
  CapturePointRequest,
  CapturePointResult,
  CaptureSession,
} from '../../capture/backend.ts';
import { fetchFile } from '../../capture/fetch.ts';
import { ChainprobeError } from '../../errors.ts';
import { PcapWriter } from '../../pcap/pcap-writer.ts';
import { parseShowClockVerbose } from './parse/clock.ts';
import { parsePcapTraceOff } from './parse/trace.ts';
import { Vppctl } from './vppctl.ts';

const VPP_MAX_BYTES_PER_PKT = 9000;
/** without a hint: enough for 10 000 probes of 8000 B at MTU 1400, both directions */
const DEFAULT_MAX_PACKETS = 200_000;

const DIRECTION: Record<CapturePointRequest['direction'], string> = { in: 'rx', out: 'tx', inout: 'rx tx' };

interface Armed {
  req: CapturePointRequest;
  vpp: Vppctl;
  fileName: string;
  maxPackets: number;
  /** VPP's clock error, read while the trace runs */
  readings: ClockReading[];
  sampler?: NodeJS.Timeout;
}

/**
 * VPP re-verifies its CPU clock against the kernel's every few seconds and steers it, so its offset moves
 * by hundreds of µs over a run: read it this often while tracing, and fit the readings (ClockTrack).
 */
const CLOCK_SAMPLE_MS = 250;

interface ClockReading {
  /** this host's time of the reading (ns since epoch, midpoint of the vppctl call) */
  atNs: number;
  /** VPP − kernel, ns */
  offsetNs: number;
}

/**
 * VPP − kernel clock offset over the trace: `show clock verbose` read at start and stop. VPP re-syncs its
 * CPU clock to the kernel's now and then, so the two readings bound the offset of every packet between.
 */
async function clockError(vpp: Vppctl): Promise<ClockReading | undefined> {
  try {
    const before = Date.now();
    const text = await vpp.exec('show clock verbose');
    const atNs = ((before + Date.now()) / 2) * 1e6;
    return { atNs, offsetNs: parseShowClockVerbose(text).errorS * 1e9 };
  } catch {
    return undefined;
  }
}

/** VPP prints the error in µs; both clocks are read in one call, so that is the reading's bound. */
const READING_UNCERTAINTY_NS = 1000;

function arm(req: CapturePointRequest): Armed {
  if (!req.hop)
    throw new ChainprobeError('E_CONFIG', `capture point "${req.point.name}": its hop is unknown`, true);
  const vpp = Vppctl.forHop(req.hop, req.transport);
  const maxPackets = req.expectedPackets
    ? Math.max(1000, Math.ceil(req.expectedPackets * 1.5))
    : DEFAULT_MAX_PACKETS;
  // VPP puts the file under its /tmp; a name of our own per process and point, no path
  const fileName = `chainprobe-${process.pid}-${req.point.name}.pcap`;
  return { req, vpp, fileName, maxPackets, readings: [] };
}

export const vppPcapBackend: CaptureBackend = {
  name: 'vpp-pcap',
  async start(points: CapturePointRequest[]): Promise<CaptureSession> {
    const byHop = new Map<string, CapturePointRequest>();
    for (const p of points) {
      const other = byHop.get(p.point.hop);
      if (other)
        throw new ChainprobeError(
          'E_CONFIG',
          `capture points "${other.point.name}" and "${p.point.name}" both use VPP's pcap trace on hop "${p.point.hop}": VPP runs one trace per instance and its file does not say which interface a packet came from — use one vpp-pcap point per VPP hop (tcpdump for Linux-visible interfaces)`,
          true,
        );
      byHop.set(p.point.hop, p);
    }
    const armed = points.map(arm);
    const started: Armed[] = [];
    try {
      for (const a of armed) {
        const status = await a.vpp.exec('pcap trace status');
        if (/capture (is on|enabled)/i.test(status))
          throw new ChainprobeError(
            'E_CAPTURE_FAILED',
            `VPP at hop "${a.req.point.hop}" already has a pcap trace running (${status.trim().split('\n')[0]}): another capture owns it; stop it with "pcap trace off" first`,
            false,
          );
        const snap = Math.min(VPP_MAX_BYTES_PER_PKT, Math.max(32, a.req.point.snaplenBytes));
        const first = await clockError(a.vpp);
        if (first) a.readings.push(first);
        await a.vpp.exec(
          `pcap trace ${DIRECTION[a.req.direction]} max ${a.maxPackets} max-bytes-per-pkt ${snap} intfc ${a.req.interface} file ${a.fileName}`,
        );
        started.push(a);
        let busy = false;
        a.sampler = setInterval(() => {
          if (busy) return;
          busy = true;
          void clockError(a.vpp)
            .then((r) => r && a.readings.push(r))
            .finally(() => {
              busy = false;
            });
        }, CLOCK_SAMPLE_MS);
        a.sampler.unref();
      }
    } catch (e) {
      for (const a of started) clearInterval(a.sampler);
      await Promise.allSettled(started.map((a) => a.vpp.exec('pcap trace off')));
      throw e;
    }
    const stopOne = async (a: Armed): Promise<CapturePointResult> => {
      const base = {
        name: a.req.point.name,
        backend: 'vpp-pcap',
        pcapPath: a.req.pcapPath,
        place: `VPP ${a.req.interface} at ${a.req.transport.description}`,
        clock: {
          source: 'backend' as const,
          note: "VPP's own clock (CPU time counter scaled to wall time at VPP's start): its offset to the kernel's clock is read from VPP, not assumed",
        } as CapturePointResult['clock'],
      };
      clearInterval(a.sampler);
      const off = parsePcapTraceOff(await a.vpp.exec('pcap trace off'), a.maxPackets);
      const last = await clockError(a.vpp);
      if (last) a.readings.push(last);
      const readings = a.readings;
      if (readings.length) {
        const offsets = readings.map((r) => r.offsetNs);
        const lo = Math.min(...offsets);
        const hi = Math.max(...offsets);
        base.clock = {
          ...base.clock,
          offset: {
            offsetNs: (lo + hi) / 2,
            uncertaintyNs: (hi - lo) / 2 + READING_UNCERTAINTY_NS,
            method: `VPP "show clock verbose" error, ${readings.length} readings every ${CLOCK_SAMPLE_MS} ms while tracing (${(lo / 1e6).toFixed(3)}–${(hi / 1e6).toFixed(3)} ms)`,
          },
          samples: readings.map((r) => ({ ...r, uncertaintyNs: READING_UNCERTAINTY_NS })),
        };
      }
      const remote = off.file ?? `/tmp/${a.fileName}`;
      let bytes = 0;
      try {
        bytes = await fetchFile(a.req.transport, remote, a.req.pcapPath);
      } catch (e) {
        // "No packets captured": VPP wrote nothing (or wrote it when max was reached, and then the
        // fetch succeeds above). An empty point is an empty pcap, not a failure.
        if (off.packets > 0) return { ...base, stats: null, error: (e as Error).message };
        rmSync(a.req.pcapPath, { force: true });
        await PcapWriter.toFile(a.req.pcapPath).close();
      } finally {
        await a.req.transport.run(['rm', '-f', '--', remote]).catch(() => {});
      }
      // VPP writes the file by itself when `max` is reached, and then `off` finds nothing left to write
      const limitHit = off.limitHit === true || (off.packets === 0 && bytes > 24);
      return {
        ...base,
        stats: {
          captured: off.packets,
          receivedByFilter: off.packets,
          droppedByKernel: 0,
          ...(limitHit ? { droppedByBackend: Number.NaN } : {}),
        },
        ...(limitHit
          ? {
              error: `VPP's pcap trace at hop "${a.req.point.hop}" reached its limit of ${a.maxPackets} packets: later packets were not captured (capture incomplete, not chain loss)`,
            }
          : {}),
      };
    };
    return {
      async stop(): Promise<CapturePointResult[]> {
        const settled = await Promise.allSettled(armed.map(stopOne));
        return settled.map((s, i) =>
          s.status === 'fulfilled'
            ? s.value
            : {
                name: armed[i].req.point.name,
                backend: 'vpp-pcap',
                pcapPath: armed[i].req.pcapPath,
                place: `VPP ${armed[i].req.interface} at ${armed[i].req.transport.description}`,
                stats: null,
                error: (s.reason as Error).message,
                clock: { source: 'backend' as const, note: "VPP's own clock" },
              },
        );
      },
      async abort() {
        for (const a of armed) clearInterval(a.sampler);
        await Promise.allSettled(
          armed.map(async (a) => {
            await a.vpp.exec('pcap trace off');
            await a.req.transport.run(['rm', '-f', '--', `/tmp/${a.fileName}`]);
          }),
        );
      },
    };
  },
};
