/**
 * One measured figure of `npm run bench`. Absolute numbers drift on shared machines, so every figure that
 * has a peer (scapy, pcap-parser, tshark, tcpreplay, trafgen) measured in the same run carries its ratio,
 * and targets are stated on the ratio.
 */
export interface BenchFigure {
  /** e.g. "codec", "esp", "pcap", "inject", "refchain" */
  group: string;
  /** what was measured, e.g. "template build, 156-byte VXLAN frame" */
  name: string;
  unit: string; // "frames/s", "packets/s", "pps"
  value: number;
  peer?: { name: string; value: number };
  /** value / peer.value */
  ratio?: number;
  /** human-readable target, e.g. ">= 1000x scapy" */
  target?: string;
  /** whether the target was met in this run */
  pass?: boolean;
  notes?: string;
}

/** A bench module: bench/<area>.ts default-exports this. It must clean up everything it starts. */
export type BenchModule = () => Promise<BenchFigure[]>;

export function withPeer(f: Omit<BenchFigure, 'ratio' | 'pass'>, minRatio?: number): BenchFigure {
  const ratio = f.peer && f.peer.value > 0 ? f.value / f.peer.value : undefined;
  return { ...f, ratio, pass: minRatio === undefined || ratio === undefined ? undefined : ratio >= minRatio };
}
