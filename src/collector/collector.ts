/**
 * A real flow collector (nfcapd, sfcapd) running through a Transport (this host, a namespace, …): started in
 * the foreground on one address/port, tracked by the transport's process registry (so Ctrl-C or a crash of
 * the harness never leaves it running), stopped with SIGINT (which closes its file), and read back with
 * nfdump: flows, packets, bytes, sequence failures, exporters it saw.
 *
 *   const c = await startCollector({ kind: 'nfcapd', address: '127.0.0.1', port: 2055, dir, transport });
 *   … send …
 *   const view = await c.stop();     // { flows, sequenceFailures, exporters, … }
 *
 * `chain up` starts collectors that must outlive the CLI: use `collectorKind(k).argv(...)` with the
 * chain's daemon helpers (spawn by pid in the namespace), then `readCollectorView(dir, transport)`.
 */
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { RemoteProcess, Transport } from '../transport/transport.ts';
import { type CollectorKind, collectorKind, collectorKindNames } from './kinds.ts';

export interface CollectorOptions {
  kind: string;
  address: string;
  port: number;
  /** directory for its files, where the transport runs (created if missing) */
  dir: string;
  transport?: Transport;
  /** how long to wait for it to listen (default 10 s) */
  startTimeoutMs?: number;
}

export interface CollectorExporter {
  /** exporter address as the collector saw it (the datagrams' source) */
  ip: string;
  /** v5 engine id, v9 source id / IPFIX observation domain, sFlow sub-agent id */
  id: number;
}

export interface CollectorView {
  collector: string;
  flows: number;
  packets: number;
  bytes: number;
  /** gap events the collector logged (nfcapd); null when it does not check (sfcapd) */
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

export interface RunningCollector {
  readonly kind: CollectorKind;
  readonly options: CollectorOptions;
  /** its output so far (stdout + stderr) */
  output(): string;
  /** SIGINT (closes the file), wait for exit, then read the view */
  stop(): Promise<CollectorView>;
}

function kindOf(name: string): CollectorKind {
  const k = collectorKind(name);
  if (!k)
    throw new ChainprobeError(
      'E_CONFIG',
      `collector "${name}": expected one of ${collectorKindNames().join(', ')}`,
      true,
    );
  return k;
}

export async function startCollector(o: CollectorOptions): Promise<RunningCollector> {
  const kind = kindOf(o.kind);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)
    throw new ChainprobeError('E_CONFIG', `collector port ${o.port} is not in 1..65535`, true);
  const transport = o.transport ?? new LocalTransport();
  const mk = await transport.run(['mkdir', '-p', o.dir], { timeoutMs: 10_000 });
  if (mk.exitCode !== 0)
    throw new ChainprobeError('E_CHAIN', `${kind.name}: cannot create ${o.dir}: ${mk.stderr.trim()}`);
  const proc: RemoteProcess = transport.spawn(kind.argv(o));
  let text = '';
  let exited = false;
  proc.stdout.on('data', (b: Buffer) => {
    text += b.toString();
  });
  proc.stderr.on('data', (b: Buffer) => {
    text += b.toString();
  });
  const done = proc.exited.finally(() => {
    exited = true;
  });
  done.catch(() => {});
  const until = Date.now() + (o.startTimeoutMs ?? 10_000);
  while (!kind.ready.test(text)) {
    if (exited) {
      await done; // E_MISSING_TOOL surfaces here
      throw new ChainprobeError(
        'E_CHAIN',
        `${kind.name} on ${o.address}:${o.port} (${transport.description}) exited: ${text.trim().slice(-500)}`,
      );
    }
    if (Date.now() > until) {
      proc.signal('SIGKILL');
      await done.catch(() => {});
      throw new ChainprobeError(
        'E_TIMEOUT',
        `${kind.name} did not start listening within ${o.startTimeoutMs ?? 10_000} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    kind,
    options: o,
    output: () => text,
    async stop() {
      if (!exited) {
        proc.signal('SIGINT');
        const timer = setTimeout(() => proc.signal('SIGKILL'), 5000);
        await done.catch(() => {});
        clearTimeout(timer);
      }
      const view = await readCollectorView(kind.name, o.dir, transport);
      const bad = /Bad Packets: (\d+)/.exec(text);
      return { ...view, badPackets: bad ? Number(bad[1]) : 0, exporters: parseExporters(text) };
    },
  };
}

/** Exporters from the collector's log ("New exporter: … IP: x" lines). */
export function parseExporters(log: string): CollectorExporter[] {
  const out: CollectorExporter[] = [];
  for (const line of log.split('\n')) {
    const ip = /IP: (\d+\.\d+\.\d+\.\d+)/.exec(line) ?? /from: (\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (!ip || !/New .*exporter/.test(line)) continue;
    const id = /engine id (\d+)|Domain: (\d+)|Observation domain (\d+)|agentSubId: (\d+)/.exec(line);
    out.push({ ip: ip[1], id: Number(id?.slice(1).find((x) => x !== undefined) ?? 0) });
  }
  return out;
}

/** Totals of what the collector wrote in `dir`, from `nfdump -R dir -I`. */
export async function readCollectorView(
  collector: string,
  dir: string,
  transport: Transport = new LocalTransport(),
): Promise<Omit<CollectorView, 'exporters'>> {
  const kind = kindOf(collector);
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
  return {
    collector,
    flows: num('Flows'),
    packets: num('Packets'),
    bytes: num('Bytes'),
    sequenceFailures: kind.checksSequence ? num('Sequence failures') : null,
    badPackets: 0,
  };
}

/** Up to `limit` decoded flow records as nfdump prints them (`-o json`), for field checks. */
export async function readCollectorFlows(
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
