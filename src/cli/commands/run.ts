/**
 * `chainprobe run [--profile F] [--count N | --duration S] [--pps R] [--size B[,B...]] [--inject l2|raw|tcpreplay]
 *                 [--traffic MIX | --replay FILE] [--exporters N] [--report DIR] [--json FILE]`
 *
 * Injects probes into a live chain, captures at every capture point, follows every probe and writes the
 * verdict. Exit 0 pass, 1 fail, 2 bad input. Ctrl-C stops injection and cleans up every process it started.
 */
import { join } from 'node:path';
import { loadProfile } from '../../chain/profile.ts';
import type { InjectorKind, KeepCaptures, LiveState } from '../../run/run.ts';
import { describeCapturePayloads, readCapturePayloads } from '../../traffic/capture-payloads.ts';
import { parseMix } from '../../traffic/mix.ts';
import { UsageError } from '../errors.ts';
import {
  choiceOption,
  intOption,
  numberOption,
  type ParseArgsOptionsConfig,
  parseSaKeys,
  runCommand,
  writableDir,
  writableFile,
} from '../options.ts';
import { maxPayloadBytes, payloadSize } from '../payload-capacity.ts';
import { printSummary } from '../summary.ts';

const HELP = `usage: chainprobe run [--profile FILE] [options]

  --profile FILE      chain profile (JSON); default: the embedded reference chain's (fixtures/reference.json)
  --count N           probes to send (default 1000)
  --duration S        or: send for S seconds at --pps (count = pps × S)
  --pps R             probe rate (default 1000)
  --size B[,B...]     inner UDP payload bytes; probes cycle through the list (default 100; jumbo: 8000;
                      at most what the profile's encapsulations leave room for)
  --traffic MIX       flow export instead of probes, e.g. netflow-v9:50,ipfix:30,sflow:20 (kinds: netflow-v5,
                      netflow-v9, ipfix, sflow): exporters from the profile's inner source + 1 on, followed by
                      their own identity at every capture point and checked by the chain's collectors
  --replay FILE       flow export from a capture instead (pcap or pcapng, e.g. real exporters' traffic or the
                      VXLAN-mirrored traffic captured in production): each packet's innermost UDP payload
                      (VXLAN decapsulated), sent again to its original destination port (NetFlow/IPFIX 2055,
                      sFlow 6343 reach their collectors through the chain's NAT) from exporters of the profile's
                      inner prefix and followed by payload fingerprint at every capture point. Not UDP and
                      fragments are skipped (and counted). Default count: every payload once; --count or
                      --duration cycle through them. Identical payloads are one datagram: copies sent within
                      5 s of it count as duplicates
  --exporters N       exporters per kind with --traffic, per destination port with --replay (default 1)
  --inject KIND       l2 (AF_PACKET, default), raw (raw socket, IP_HDRINCL) or tcpreplay
  --report DIR        write DIR/index.html, DIR/junit.xml, DIR/results.json and the captures (DIR/pcaps)
  --json FILE         write the results document here
  --run-id N          probe run id (default random)
  --keep-captures W   always (default), on-failure or never: keep DIR/pcaps/run.pcapng
  --sa-key SPI=HEX    ESP key+salt for runtime-keyed SAs (default: read from the running reference chain)
  --vpp-trace N       trace N packets per VPP hop (trace add af-packet-input N) and report the node that
                      dropped or rewrote them
  --wait              another run (or chain up/down/fault) holds the chain: wait for it instead of refusing
  --segment S         cut the captures into S-second segments analysed and deleted during the run (long runs;
                      keeps the first segment as a sample; \`chainprobe soak\` does this by default)
  --allow-outside-lab send even to addresses outside the profile's labPrefixes (never needed for the lab)`;

const OPTIONS = {
  profile: { type: 'string' },
  count: { type: 'string' },
  duration: { type: 'string' },
  pps: { type: 'string' },
  size: { type: 'string', default: '100' },
  inject: { type: 'string', default: 'l2' },
  report: { type: 'string' },
  json: { type: 'string' },
  'run-id': { type: 'string' },
  'keep-captures': { type: 'string' },
  'sa-key': { type: 'string', multiple: true, default: [] },
  'allow-outside-lab': { type: 'boolean', default: false },
  wait: { type: 'boolean', default: false },
  'vpp-trace': { type: 'string' },
  traffic: { type: 'string' },
  replay: { type: 'string' },
  exporters: { type: 'string' },
  segment: { type: 'string' },
  protocols: { type: 'string' },
} satisfies ParseArgsOptionsConfig;

/** What `run` and `soak` differ in: their help, defaults, and how a long run reports itself. */
export interface RunVerb {
  name: 'run' | 'soak';
  help: string;
  /** option defaults applied when the option is not given */
  defaults: Partial<
    Record<'pps' | 'duration' | 'traffic' | 'exporters' | 'segment' | 'keep-captures', string>
  >;
  /** timeline buckets: soaks keep one per second */
  timeline?: { bucketNs: bigint; maxBuckets: number };
  /** print the live state (packets per point, analysed delivery) every `liveEveryS` seconds */
  liveEveryS?: number;
}

const RUN_VERB: RunVerb = { name: 'run', help: HELP, defaults: {} };

const INJECTORS: readonly InjectorKind[] = ['l2', 'raw', 'tcpreplay'];
/** run.ts's KeepCaptures (a type import: a usage error does not load the run machinery) */
const KEEP_CAPTURE_POLICIES: readonly KeepCaptures[] = ['always', 'on-failure', 'never'];

export function run(args: string[]): Promise<number> {
  return runVerb(args, RUN_VERB);
}

/** `--protocols netflow,sflow,ipfix` (the users' production check): equal weights, NetFlow as v9. */
const PROTOCOL_KIND: Record<string, string> = {
  netflow: 'netflow-v9',
  'netflow-v5': 'netflow-v5',
  'netflow-v9': 'netflow-v9',
  ipfix: 'ipfix',
  sflow: 'sflow',
};
function protocolsMix(list: string): string {
  return list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const kind = PROTOCOL_KIND[p];
      if (!kind)
        throw new UsageError(
          `--protocols: "${p}" is not one of ${Object.keys(PROTOCOL_KIND).join(', ')} (weights: use --traffic)`,
        );
      return `${kind}:1`;
    })
    .join(',');
}

export function runVerb(args: string[], verb: RunVerb): Promise<number> {
  return runCommand(args, { usage: verb.help, options: OPTIONS }, async (given) => {
    if (given.protocols !== undefined && given.traffic !== undefined)
      throw new UsageError('give --traffic or --protocols, not both');
    if (given.replay !== undefined && (given.traffic !== undefined || given.protocols !== undefined))
      throw new UsageError(
        `give --replay or ${given.traffic !== undefined ? '--traffic' : '--protocols'}, not both`,
      );
    if (given.protocols !== undefined) given.traffic = protocolsMix(given.protocols);
    const values = { ...given };
    for (const [k, v] of Object.entries(verb.defaults))
      if (values[k as keyof typeof values] === undefined) (values as Record<string, unknown>)[k] = v;
    if (given.count && verb.defaults.duration) values.duration = undefined;
    // Everything is checked before the first capture starts: a bad value never interrupts a run.
    if (given.count && given.duration) throw new UsageError('give --count or --duration, not both');
    const injector = choiceOption('--inject', values.inject, INJECTORS);
    const keepCaptures = choiceOption(
      '--keep-captures',
      values['keep-captures'] ?? 'always',
      KEEP_CAPTURE_POLICIES,
    );
    // The run machinery (captures, injectors, transports with ssh2, the report renderer) is loaded only
    // for a command line that parsed: a usage error answers without it, even on a loaded machine.
    const [
      { DEFAULT_PROFILE_PATH },
      { runChain },
      { resolveRuntimeKeys },
      { writeArtifacts },
      { holdSignalCleanup },
    ] = await Promise.all([
      import('../../drivers/refchain/index.ts'),
      import('../../run/run.ts'),
      import('../../run/runtime-keys.ts'),
      import('../../report/write.ts'),
      import('../../transport/registry.ts'),
    ]);
    const profile = loadProfile(values.profile ?? DEFAULT_PROFILE_PATH);
    const count = values.count ? intOption('--count', values.count, 1, 1_000_000_000) : undefined;
    const pps = intOption('--pps', values.pps ?? '1000', 1, 10_000_000);
    const sizes = values.size.split(',').map((s) => payloadSize('--size', s, profile));
    const durationS = values.duration
      ? numberOption('--duration', values.duration, 0.001, 86_400)
      : undefined;
    const segmentSeconds = values.segment ? numberOption('--segment', values.segment, 1, 3600) : undefined;
    if (values.exporters !== undefined && values.traffic === undefined && values.replay === undefined)
      throw new UsageError('--exporters needs --traffic or --replay');
    const exporters = values.exporters
      ? { exporters: intOption('--exporters', values.exporters, 1, 200) }
      : {};
    // a replay reads its capture now: a bad or UDP-less file is bad input before anything starts
    const replay = values.replay !== undefined ? await readCapturePayloads(values.replay) : undefined;
    if (replay) {
      // replayed payloads ride in the probes' inner datagram: the probes' limit is theirs
      if (replay.largestBytes > maxPayloadBytes(profile))
        throw new UsageError(
          `--replay ${replay.file}: a ${replay.largestBytes}-byte UDP payload does not fit this profile's encapsulations (at most ${maxPayloadBytes(profile)} bytes)`,
        );
      console.error(describeCapturePayloads(replay));
    }
    const traffic = replay
      ? { mix: 'replay', ...exporters, replay }
      : values.traffic !== undefined
        ? { mix: values.traffic, ...exporters }
        : undefined;
    // a bad mix is bad input before anything starts
    if (traffic && !replay)
      try {
        parseMix(traffic.mix);
      } catch (e) {
        throw new UsageError(`--traffic: ${(e as Error).message}`);
      }
    const runId = values['run-id'] ? intOption('--run-id', values['run-id'], 0, 0xffffffff) : undefined;
    if (values.json) writableFile('--json', values.json);
    const reportDir = writableDir(
      '--report',
      values.report ?? join('reports', `${verb.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    );
    const runtimeKeys = await resolveRuntimeKeys(profile, parseSaKeys(values['sa-key']));
    const controller = new AbortController();
    // First Ctrl-C: stop injecting and report what was captured. Second: stop everything now.
    const releaseProcesses = holdSignalCleanup();
    const onSigint = () => {
      if (!controller.signal.aborted) {
        process.stderr.write(
          '\ninterrupted: stopping injection, analysing what was captured (Ctrl-C again to quit)…\n',
        );
        controller.abort();
        return;
      }
      releaseProcesses();
      process.off('SIGINT', onSigint);
      process.kill(process.pid, 'SIGINT');
    };
    process.on('SIGINT', onSigint);
    try {
      const outcome = await runChain({
        profile,
        // a replay sends its capture once unless told otherwise
        count: count ?? (replay && durationS === undefined ? replay.payloads : undefined),
        durationS,
        pps,
        payloadBytes: sizes,
        injector,
        runtimeKeys,
        captureDir: join(reportDir, 'pcaps'),
        runId,
        allowOutsideLab: values['allow-outside-lab'],
        waitForLock: values.wait,
        keepCaptures,
        commandLine: ['chainprobe', verb.name, ...args],
        ...(segmentSeconds ? { segmentSeconds } : {}),
        ...(verb.timeline ? { timeline: verb.timeline } : {}),
        ...(verb.liveEveryS ? { onLive: livePrinter(verb.liveEveryS, durationS) } : {}),
        ...(values['vpp-trace']
          ? { packetTrace: intOption('--vpp-trace', values['vpp-trace'], 1, 10_000) }
          : {}),
        ...(traffic ? { traffic } : {}),
        signal: controller.signal,
        log: (l) => console.error(l),
        // a long run prints its live line instead of the sender's progress
        ...(verb.liveEveryS ? {} : { onProgress: progressPrinter() }),
      });
      const paths = writeArtifacts(outcome.results, { jsonPath: values.json, reportDir });
      printSummary(outcome.results, {
        ...paths,
        ...(outcome.pcapng ? { pcapng: outcome.pcapng } : {}),
      } as never);
      return outcome.results.verdict === 'pass' ? 0 : 1;
    } finally {
      process.off('SIGINT', onSigint);
      releaseProcesses();
    }
  });
}

/**
 * A long run's state: what the first and last capture points took so far (offered and delivered, live),
 * what the analysis has closed (delivery of the journeys it has judged), capture bytes on disk, memory.
 * On a terminal every second in place; in logs every `everyS` seconds.
 */
function livePrinter(everyS: number, durationS?: number): (l: LiveState) => void {
  const t0 = Date.now();
  let lastLine = 0;
  const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
  return (l) => {
    const s = Math.round((Date.now() - t0) / 1000);
    const counts = [...l.packetCounts.values()];
    const first = counts[0] ?? 0;
    const last = counts[counts.length - 1] ?? 0;
    const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(2)} %` : '–');
    const analysed = l.analysed
      ? ` · analysed ${l.analysed.sent.toLocaleString('en-US')}: delivered ${pct(l.analysed.delivered, l.analysed.sent)}`
      : '';
    const text = `${s}/${durationS ?? '?'} s · sent ${l.sent.toLocaleString('en-US')} · first point ${first.toLocaleString('en-US')} · last point ${last.toLocaleString('en-US')} (${pct(last, first)})${analysed} · captures on disk ${mib(l.bytesOnDisk)} · rss ${mib(l.rssBytes)}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${text}   `);
    else if (s - lastLine >= everyS) {
      lastLine = s;
      process.stderr.write(`${text}\n`);
    }
  };
}

/** On a terminal, one line rewritten in place; in logs (CI), a line per tenth of the run. */
function progressPrinter(): (p: { sent: number; total: number; elapsedNs: number }) => void {
  let lastTenth = -1;
  return (p) => {
    const text = `sent ${p.sent}/${p.total} (${Math.round(p.sent / (p.elapsedNs / 1e9 || 1))} pps)`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${text}   `);
      return;
    }
    const tenth = Math.floor((10 * p.sent) / Math.max(1, p.total));
    if (tenth > lastTenth) {
      lastTenth = tenth;
      process.stderr.write(`${text}\n`);
    }
  };
}
