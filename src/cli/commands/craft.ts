/**
 * `chainprobe craft --profile F --stage S --count N --size B --out FILE [--format pcap|pcapng]`
 *
 * Writes N probe-bearing packets as they look at stage S of the profile's chain (the oracle's
 * prediction), e.g. `ingress` to replay with tcpreplay, `wire` to compare with a capture. Packets are
 * spaced 1/pps apart in time (default 1000 pps) so a replay keeps that rate.
 */
import { ChainOracle, type RuntimeSaKey } from '../../chain/oracle.ts';
import { loadProfile, type Profile, stageIndex } from '../../chain/profile.ts';
import { PcapWriter } from '../../pcap/pcap-writer.ts';
import { PcapngWriter } from '../../pcap/pcapng-writer.ts';
import { resolveRuntimeKeys } from '../../run/runtime-keys.ts';
import { writeFlowMixPcap } from '../../traffic/write-pcap.ts';
import type { EspSa } from '../../transform/esp-sa.ts';
import { UsageError } from '../errors.ts';
import {
  choiceOption,
  intOption,
  type ParseArgsOptionsConfig,
  parseSaKeys,
  runCommand,
  writableFile,
} from '../options.ts';
import { payloadSize } from '../payload-capacity.ts';

const HELP = `usage: chainprobe craft --profile FILE --stage STAGE --count N --size BYTES --out FILE [options]

  --profile FILE     chain profile (JSON), e.g. fixtures/vpp-testing.json
  --stage STAGE      which stage's packets to write (the profile's stage names, e.g. ingress, decap, nat, esp, wire, delivered)
  --count N          number of probes (default 1)
  --size BYTES       inner UDP payload bytes, probe header included (32 up to what the profile's
                     encapsulations leave room for; default 64)
  --out FILE         output file
  --format F         pcap (ns timestamps, default) or pcapng
  --pps R            timestamp spacing of consecutive probes (default 1000)
  --run-id N         probe run id (default: random)
  --flow-id N        probe flow id (default 1)
  --sa-key SPI=HEX   key+salt (40 hex digits) for an SA whose profile key comes at run time; repeatable
                     (default: the running reference chain's negotiated keys)
  --traffic MIX      flow export instead of probes, e.g. netflow-v9:50,ipfix:30,sflow:20 (kinds: netflow-v5,
                     netflow-v9, ipfix, sflow): the exporters' Ethernet frames, from the profile's inner source
                     address on (one address per exporter) to its inner destination; --profile optional
                     (default 127.0.0.10… → 127.0.0.1, for loopback replays); --stage and --size unused
  --exporters N      exporters per kind with --traffic (default 1)`;

const OPTIONS = {
  profile: { type: 'string' },
  stage: { type: 'string' },
  count: { type: 'string', default: '1' },
  size: { type: 'string', default: '64' },
  out: { type: 'string' },
  format: { type: 'string', default: 'pcap' },
  pps: { type: 'string', default: '1000' },
  'run-id': { type: 'string' },
  'flow-id': { type: 'string', default: '1' },
  'sa-key': { type: 'string', multiple: true, default: [] },
  traffic: { type: 'string' },
  exporters: { type: 'string', default: '1' },
} satisfies ParseArgsOptionsConfig;

export function run(args: string[]): Promise<number> {
  return runCommand(args, { usage: HELP, options: OPTIONS }, async (values) => {
    if (values.traffic !== undefined) return craftTraffic(values);
    if (!values.profile || !values.stage || !values.out)
      throw new UsageError('--profile, --stage and --out are required');
    const format = choiceOption('--format', values.format, ['pcap', 'pcapng'] as const);
    const profile = loadProfile(values.profile);
    const stageAt = stageIndex(profile, values.stage);
    const count = intOption('--count', values.count, 1, 100_000_000);
    const size = payloadSize('--size', values.size, profile);
    const pps = intOption('--pps', values.pps, 1, 100_000_000);
    const runId =
      values['run-id'] !== undefined
        ? intOption('--run-id', values['run-id'], 0, 0xffffffff)
        : (Math.random() * 0xffffffff) >>> 0;
    const flowId = intOption('--flow-id', values['flow-id'], 0, 0xffffffff);
    const keys: RuntimeSaKey[] = await resolveRuntimeKeys(profile, parseSaKeys(values['sa-key']));
    writableFile('--out', values.out);
    return craft({ profile, stageAt, count, size, pps, runId, flowId, keys, out: values.out, format });
  });
}

async function craft(o: {
  profile: Profile;
  stageAt: number;
  count: number;
  size: number;
  pps: number;
  runId: number;
  flowId: number;
  keys: RuntimeSaKey[];
  out: string;
  format: 'pcap' | 'pcapng';
}): Promise<number> {
  const { profile, stageAt, count, size, pps, runId, flowId, keys } = o;
  const oracle = new ChainOracle(profile, keys);
  oracle.sas(); // resolve keys up front: a missing runtime key fails before anything is written
  const template = oracle.template({ payloadBytes: size, runId, flowId });
  const stageName = profile.stages[stageAt].name;
  const sas = new Map<string, EspSa>();
  const spacingNs = BigInt(Math.round(1e9 / pps));
  const t0 = BigInt(Date.now()) * 1_000_000n;

  let writer: { write(data: Uint8Array, ts: bigint): void; close(): Promise<void> } | null = null;
  let packets = 0;
  for (let seq = 0; seq < count; seq++) {
    const ts = t0 + BigInt(seq) * spacingNs;
    const frame = template.patch(seq, ts);
    // Only run the transforms up to the requested stage (stage 0 needs none).
    const stage = stageAt === 0 ? { linktype: 1, packets: [frame] } : oracle.predict(frame, sas)[stageAt];
    if (!writer) writer = openWriter(o.out, o.format, stage.linktype, stageName);
    for (const [i, p] of stage.packets.entries()) writer.write(p, ts + BigInt(i) * 1000n);
    packets += stage.packets.length;
  }
  await writer?.close();
  console.log(
    `wrote ${packets} packets (${count} probes of ${size} B, run ${runId}) at stage "${stageName}" to ${o.out}`,
  );
  return 0;
}

/** `--traffic`: flow-export exporters' frames (src/traffic), not the probe path. */
async function craftTraffic(values: {
  traffic?: string;
  exporters: string;
  count: string;
  pps: string;
  out?: string;
  profile?: string;
  format: string;
}): Promise<number> {
  if (!values.out) throw new UsageError(`--out is required\n\n${HELP}`);
  if (values.format !== 'pcap') throw new UsageError('--traffic writes pcap only');
  const inner = values.profile ? loadProfile(values.profile).traffic.inner : undefined;
  const r = await writeFlowMixPcap(
    values.out,
    intOption('--count', values.count, 1, 100_000_000),
    intOption('--pps', values.pps, 1, 100_000_000),
    {
      mix: values.traffic ?? '',
      exporters: intOption('--exporters', values.exporters, 1, 4096),
      exporterBaseIp: inner?.srcIp ?? '127.0.0.10',
      dstIp: inner?.dstIp ?? '127.0.0.1',
      srcMac: inner?.srcMac,
      dstMac: inner?.dstMac ?? '00:00:00:00:00:00',
    },
  );
  console.log(
    `wrote ${r.frames} datagrams of ${values.traffic} from ${r.exporters} exporters to ${values.out}`,
  );
  return 0;
}

function openWriter(path: string, format: string, linktype: number, stage: string) {
  if (format === 'pcap') {
    const w = PcapWriter.toFile(path, { precision: 'ns', linktype });
    return { write: (d: Uint8Array, ts: bigint) => w.write(d, ts), close: () => w.close() };
  }
  const w = PcapngWriter.toFile(path);
  const id = w.addInterface({ name: stage, linktype, snaplen: 262144, tsresolNs: 1 });
  return { write: (d: Uint8Array, ts: bigint) => w.writePacket(id, d, ts), close: () => w.close() };
}
