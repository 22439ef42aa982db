/**
 * A real flow collector (nfcapd, sfcapd, nfacctd, sfacctd) running through a Transport (this host, a
 * namespace, …): started in the foreground on one address/port, tracked by the transport's process registry
 * (so Ctrl-C or a crash of the harness never leaves it running), stopped with its kind's signal (which makes
 * it write out what it holds), and read back by its kind: flows, packets, bytes, sequence failures, exporters.
 *
 *   const c = await startCollector({ kind: 'nfcapd', address: '127.0.0.1', port: 2055, dir, transport });
 *   … send …
 *   const view = await c.stop();     // { flows, sequenceFailures, exporters, … }
 *
 * `chain up` starts collectors that must outlive the CLI: it uses the kind's `launch`, `ready`, `stop` and
 * `readView` with the chain's daemon helpers (spawn by pid in the namespace).
 */
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from '../transport/local.ts';
import type { RemoteProcess, Transport } from '../transport/transport.ts';
import { collectorKind, collectorKindNames } from './kinds.ts';
import type { CollectorKind, CollectorView } from './types.ts';

export type { CollectorExporter, CollectorReading, CollectorView } from './types.ts';

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

export interface RunningCollector {
  readonly kind: CollectorKind;
  readonly options: CollectorOptions;
  /** its output so far (stdout + stderr) */
  output(): string;
  /** its stop signal (it writes out what it holds), wait for exit, then read the view */
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
  const { argv, files } = kind.launch(o);
  const mk = await transport.run(['mkdir', '-p', o.dir], { timeoutMs: 10_000 });
  if (mk.exitCode !== 0)
    throw new ChainprobeError('E_CHAIN', `${kind.name}: cannot create ${o.dir}: ${mk.stderr.trim()}`);
  for (const [name, text] of Object.entries(files)) {
    const w = await transport.run(['sh', '-c', 'cat > "$1"', 'sh', `${o.dir}/${name}`], {
      input: text,
      timeoutMs: 10_000,
    });
    if (w.exitCode !== 0)
      throw new ChainprobeError('E_CHAIN', `${kind.name}: cannot write ${o.dir}/${name}: ${w.stderr.trim()}`);
  }
  const proc: RemoteProcess = transport.spawn(argv);
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
  while (!kind.ready(text)) {
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
        `${kind.name} did not start listening within ${o.startTimeoutMs ?? 10_000} ms: ${text.trim().slice(-300)}`,
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
        proc.signal(kind.stop.signal);
        const timer = setTimeout(() => proc.signal('SIGKILL'), kind.stop.graceMs);
        await done.catch(() => {});
        clearTimeout(timer);
      }
      return kind.readView({ dir: o.dir, log: text, transport });
    },
  };
}
