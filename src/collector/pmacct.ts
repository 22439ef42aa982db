/**
 * The pmacct family: nfacctd (NetFlow v5/v9, IPFIX) and sfacctd (sFlow), run in the foreground from a config
 * written into their directory, with the print plugin appending JSON records (aggregated per flow 5-tuple
 * and exporter) to flows.json every second and once more on SIGINT. Both log every sequence gap they see
 * ("expecting flow '170' but received '180' … agent=127.0.0.14:4096") once their checks are enabled:
 * nfacctd for v5, v9 and IPFIX, sfacctd for sFlow — the check sfcapd lacks.
 *
 * Measured with Debian's pmacct 1.7.7: SIGINT flushes and exits in 2–3.5 s; SIGTERM is only acted on when
 * the next datagram arrives (an idle collector ignores it), so the stop signal is SIGINT.
 */
import { ChainprobeError } from '../errors.ts';
import {
  type CollectorExporter,
  type CollectorKind,
  type CollectorView,
  type CollectorViewSource,
  SOCKET_BUFFER_BYTES,
} from './types.ts';

const FLOWS_FILE = 'flows.json';
const CONFIG_FILE = 'pmacct.conf';

/** peer_src_ip is the exporter (sFlow: the agent address), export_proto_sysid its engine/source/domain/sub-agent id */
const AGGREGATE = [
  'src_host',
  'dst_host',
  'src_port',
  'dst_port',
  'proto',
  'peer_src_ip',
  'export_proto_sysid',
  'export_proto_version',
  'flows',
];

const pmacctKind = (name: 'nfacctd' | 'sfacctd', receives: string[]): CollectorKind => ({
  name,
  family: 'pmacct',
  receives,
  checksSequence: true,
  launch: ({ address, port, dir }) => {
    const prefix = name; // global keys are per daemon: nfacctd_port, sfacctd_port, …
    const config = [
      'daemonize: false',
      `${prefix}_ip: ${address}`,
      `${prefix}_port: ${port}`,
      // the sequence checks are off by default
      `${prefix}_disable_checks: false`,
      // the socket buffer nfcapd gets with -B (the kernel reports double: "obtained=8388608")
      `${prefix}_pipe_size: ${SOCKET_BUFFER_BYTES}`,
      // sFlow samples scaled by their sampling rate, as sfcapd reports them
      ...(name === 'sfacctd' ? ['sfacctd_renormalize: true'] : []),
      'plugins: print',
      'print_output: json',
      `print_output_file: ${dir}/${FLOWS_FILE}`,
      // every purge is appended (the default rewrites the file with the last interval only)
      'print_output_file_append: true',
      'print_refresh_time: 1',
      `aggregate: ${AGGREGATE.join(', ')}`,
    ];
    return {
      argv: [name, '-f', `${dir}/${CONFIG_FILE}`],
      files: { [CONFIG_FILE]: `${config.join('\n')}\n` },
    };
  },
  // the core listens before its print plugin is up: records it hands over earlier are lost (measured: all
  // 1970 flows of a stream sent right after "waiting for … data on")
  ready: (log) => /waiting for .+ data on /.test(log) && /JSON: setting object handlers/.test(log),
  stop: { signal: 'SIGINT', graceMs: 10_000 },
  readView: (o) => readPmacctView(name, o),
});

export const PMACCT_KINDS: readonly CollectorKind[] = [
  pmacctKind('nfacctd', ['netflow-v5', 'netflow-v9', 'ipfix']),
  pmacctKind('sfacctd', ['sflow']),
];

interface PurgeRecord {
  event_type: string;
  peer_ip_src?: string;
  export_proto_sysid?: number;
  flows?: number;
  packets?: number;
  bytes?: number;
}

/** Totals of the JSON records it appended, exporters from them; gaps and undecodable datagrams from its log. */
async function readPmacctView(
  collector: string,
  { dir, log, transport }: CollectorViewSource,
): Promise<CollectorView> {
  const file = `${dir}/${FLOWS_FILE}`;
  const r = await transport.run(['cat', file], { timeoutMs: 120_000 });
  // no file: it purged nothing (nothing decoded)
  if (r.exitCode !== 0 && !/No such file/.test(r.stderr))
    throw new ChainprobeError(
      'E_CHAIN',
      `${collector}: cannot read ${file} (${transport.description}): ${r.stderr.trim()}`,
    );
  const view: CollectorView = {
    collector,
    flows: 0,
    packets: 0,
    bytes: 0,
    sequenceFailures: (log.match(/expecting flow '\d+' but received '\d+'/g) ?? []).length,
    badPackets: (log.match(/discarding unknown packet|unable to read next/g) ?? []).length,
    exporters: [],
  };
  const exporters = new Map<string, CollectorExporter>();
  for (const line of r.exitCode === 0 ? r.stdout.split('\n') : []) {
    if (!line.trim()) continue;
    let rec: PurgeRecord;
    try {
      rec = JSON.parse(line) as PurgeRecord;
    } catch {
      throw new ChainprobeError(
        'E_CHAIN',
        `${collector}: ${file} has a line that is not JSON: ${line.slice(0, 120)}`,
      );
    }
    if (rec.event_type !== 'purge') continue;
    view.flows += rec.flows ?? 0;
    view.packets += rec.packets ?? 0;
    view.bytes += rec.bytes ?? 0;
    const ip = rec.peer_ip_src ?? '';
    const id = rec.export_proto_sysid ?? 0;
    exporters.set(`${ip}/${id}`, { ip, id });
  }
  view.exporters = [...exporters.values()];
  return view;
}
