/**
 * A flow collector kind (one daemon: nfcapd, sfacctd, …) and the view every kind reports in the same shape,
 * whatever its family writes (nfdump files, pmacct JSON) and logs.
 */
import type { Transport } from '../transport/transport.ts';

/** Collectors' socket receive buffer: 4 MiB (capped by net.core.rmem_max). */
export const SOCKET_BUFFER_BYTES = 4 << 20;

export interface CollectorListen {
  address: string;
  port: number;
  /** its own directory, where the transport runs: files it writes, and its config */
  dir: string;
}

export interface CollectorViewSource {
  dir: string;
  /** its output (stdout + stderr) since it started */
  log: string;
  transport: Transport;
}

export interface CollectorKind {
  readonly name: string;
  /** collector family (kinds.ts): the daemons chosen together, e.g. nfdump = nfcapd + sfcapd */
  readonly family: string;
  /** payload kinds (traffic/kinds.ts) this collector decodes */
  readonly receives: readonly string[];
  /** whether it checks sequence numbers (sfcapd does not) */
  readonly checksSequence: boolean;
  /** argv to run it in the foreground, and files (name → text) to write into its directory first */
  launch(o: CollectorListen): { argv: string[]; files: Record<string, string> };
  /** whether its output so far says it is listening (and, for pmacct, its plugin is ready to take records) */
  ready(log: string): boolean;
  /** the signal that makes it write out what it holds and exit, and how long that may take */
  readonly stop: { signal: 'SIGINT' | 'SIGTERM'; graceMs: number };
  /** its view after it stopped: what it wrote in its directory, and its log */
  readView(o: CollectorViewSource): Promise<CollectorView>;
}

export interface CollectorExporter {
  /** exporter address as the collector saw it (the datagrams' source; for sFlow the agent address) */
  ip: string;
  /** v5 engine id, v9 source id / IPFIX observation domain, sFlow sub-agent id */
  id: number;
}

export interface CollectorView {
  collector: string;
  flows: number;
  packets: number;
  bytes: number;
  /** gap events the collector logged; null when it does not check (sfcapd) */
  sequenceFailures: number | null;
  /** packets it could not decode */
  badPackets: number;
  exporters: CollectorExporter[];
}

/** A collector's view as a chain reports it: where it listened, and what its socket dropped. */
export interface CollectorReading extends CollectorView {
  /** address:port it listened on */
  listen: string;
  /** datagrams the kernel dropped at its socket (receive buffer full): delivered by the chain, lost by it */
  socketDrops: number | null;
}
