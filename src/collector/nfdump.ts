/**
 * The nfdump family: Debian's nfcapd (NetFlow v5/v9, IPFIX) and sfcapd (sFlow) write nfdump files, read back
 * with `nfdump` (always with -o: Debian's build prints NSEL columns otherwise). nfcapd counts sequence gaps;
 * sfcapd does not (a gap 3→10 shows 0 failures), so its view says "not checked".
 */
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Transport } from '../transport/transport.ts';
import {
  type CollectorExporter,
  type CollectorKind,
  type CollectorView,
  type CollectorViewSource,
  SOCKET_BUFFER_BYTES,
} from './types.ts';

const nfdumpKind = (name: string, receives: string[], checksSequence: boolean): CollectorKind => ({
  name,
  family: 'nfdump',
  receives,
  checksSequence,
  // -B: a 4 MiB socket buffer (capped by net.core.rmem_max); the default 208 KiB overflowed at 10 kpps of
  // the mix on the reference chain (126 datagrams the chain delivered, dropped at the sockets)
  launch: ({ address, port, dir }) => ({
    argv: [
      name,
      '-b',
      address,
      '-p',
      String(port),
      '-w',
      dir,
      '-t',
      '3600',
      '-B',
      String(SOCKET_BUFFER_BYTES),
    ],
    files: {},
  }),
  ready: (log) => /^Startup /m.test(log),
  // either signal closes its file at once
  stop: { signal: 'SIGINT', graceMs: 5000 },
  readView: (o) => readNfdumpView(name, checksSequence, o),
});

export const NFDUMP_KINDS: readonly CollectorKind[] = [
  nfdumpKind('nfcapd', ['netflow-v5', 'netflow-v9', 'ipfix'], true),
  nfdumpKind('sfcapd', ['sflow'], false),
];

/** Totals of what the collector wrote in `dir` (`nfdump -R dir -I`), bad packets and exporters from its log. */
async function readNfdumpView(
  collector: string,
  checksSequence: boolean,
  { dir, log, transport }: CollectorViewSource,
): Promise<CollectorView> {
  const r = await transport.run(['nfdump', '-R', dir, '-I'], { timeoutMs: 120_000 });
  if (r.exitCode !== 0)
    throw new ChainprobeError(
      'E_CHAIN',
      `nfdump -R ${dir} -I (${transport.description}): ${r.stderr.trim()}`,
    );
  const num = (key: string): number => {
    const m = new RegExp(`^${key}: (\\d+)`, 'm').exec(r.stdout);
    if (!m) throw new ChainprobeError('E_CHAIN', `nfdump -I printed no "${key}" (${r.stdout.slice(0, 200)})`);
    return Number(m[1]);
  };
  const bad = /Bad Packets: (\d+)/.exec(log);
  return {
    collector,
    flows: num('Flows'),
    packets: num('Packets'),
    bytes: num('Bytes'),
    sequenceFailures: checksSequence ? num('Sequence failures') : null,
    badPackets: bad ? Number(bad[1]) : 0,
    exporters: parseNfdumpExporters(log),
  };
}

/** Exporters from an nfcapd/sfcapd log ("New exporter: … IP: x" lines). */
export function parseNfdumpExporters(log: string): CollectorExporter[] {
  const out: CollectorExporter[] = [];
  for (const line of log.split('\n')) {
    const ip = /IP: (\d+\.\d+\.\d+\.\d+)/.exec(line) ?? /from: (\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (!ip || !/New .*exporter/.test(line)) continue;
    const id = /engine id (\d+)|Domain: (\d+)|Observation domain (\d+)|agentSubId: (\d+)/.exec(line);
    out.push({ ip: ip[1], id: Number(id?.slice(1).find((x) => x !== undefined) ?? 0) });
  }
  return out;
}

/** Up to `limit` decoded flow records as nfdump prints them (`-o json`), for field checks. */
export async function readNfdumpFlows(
  dir: string,
  limit: number,
  transport: Transport = new LocalTransport(),
): Promise<Record<string, unknown>[]> {
  const r = await transport.run(['nfdump', '-R', dir, '-o', 'json', '-c', String(limit)], {
    timeoutMs: 120_000,
  });
  if (r.exitCode !== 0)
    throw new ChainprobeError(
      'E_CHAIN',
      `nfdump -R ${dir} -o json (${transport.description}): ${r.stderr.trim()}`,
    );
  const text = r.stdout.trim();
  return text ? (JSON.parse(text) as Record<string, unknown>[]) : [];
}
