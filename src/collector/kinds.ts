/**
 * Collector kinds: which daemon receives which payload kinds, how it is started in the foreground on one
 * address/port, and how its view is read back. One entry per collector; nfcapd/sfcapd write nfdump files
 * and are read with `nfdump` (always with -o: Debian's build prints NSEL columns otherwise).
 */
export interface CollectorKind {
  readonly name: string;
  readonly binary: string;
  /** payload kinds (traffic/kinds.ts) this collector decodes */
  readonly receives: readonly string[];
  /** whether it checks sequence numbers (sfcapd does not: a gap 3→10 shows 0 failures) */
  readonly checksSequence: boolean;
  /** argv to run it in the foreground; SIGINT closes its file */
  argv(o: { address: string; port: number; dir: string }): string[];
  /** a line of its output that says it is listening */
  readonly ready: RegExp;
}

const SOCKET_BUFFER_BYTES = 4 << 20;

const nfdumpFamily = (name: string, receives: string[], checksSequence: boolean): CollectorKind => ({
  name,
  binary: name,
  receives,
  checksSequence,
  // -B: a 4 MiB socket buffer (capped by net.core.rmem_max); the default 208 KiB overflowed at 10 kpps of
  // the mix on the reference chain (126 datagrams the chain delivered, dropped at the sockets)
  argv: ({ address, port, dir }) => [
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
  ready: /^Startup /m,
});

const KINDS = new Map<string, CollectorKind>(
  [
    nfdumpFamily('nfcapd', ['netflow-v5', 'netflow-v9', 'ipfix'], true),
    nfdumpFamily('sfcapd', ['sflow'], false),
  ].map((k) => [k.name, k]),
);

export function collectorKind(name: string): CollectorKind | undefined {
  return KINDS.get(name);
}

export function collectorKindNames(): string[] {
  return [...KINDS.keys()];
}

/** The collector that receives a payload kind (nfcapd for NetFlow/IPFIX, sfcapd for sFlow). */
export function collectorFor(payloadKind: string): CollectorKind | undefined {
  for (const k of KINDS.values()) if (k.receives.includes(payloadKind)) return k;
  return undefined;
}
