/**
 * Per-hop named counters, read from the chain before and after a run: the delta says what the data plane
 * itself counted (packets through each interface, drops, NAT and fault rule hits, SA packets), beside what
 * the captures saw. Names are paths, as in VPP's stats segment: "if/sec1/tx_dropped",
 * "nft/netdev/refchain_fault_security_drop/ingress/0/packets", "sa/net/packets_out", "err/ip4-frag/…".
 */
export interface CounterSnapshot {
  driver: string;
  takenAt: string;
  /** hop → counter name → value */
  hops: Record<string, Record<string, number>>;
  /** what could not be read, and why (a counter that is missing is never reported as 0) */
  unavailable: { hop: string; reason: string }[];
  tookMs: number;
  /** hop → counter name → how bad a rise is, where the data plane says (VPP's error severities) */
  severity?: Record<string, Record<string, 'error' | 'warn' | 'info'>>;
}

export interface CounterDelta {
  from: string;
  to: string;
  /** hop → counter name → after − before; only counters that changed */
  hops: Record<string, Record<string, number>>;
  unavailable: { hop: string; reason: string }[];
}

/**
 * after − before for every counter of a hop read both times. A counter missing before the run counted 0
 * then (VPP's CLI hides zero counters; a fault rule's counter is created at 0). A counter that went down, or
 * that was there before and is gone after, was reset (interface recreated, counters cleared): it is reported
 * as unavailable for that hop rather than as a negative count.
 */
export function counterDelta(before: CounterSnapshot, after: CounterSnapshot): CounterDelta {
  const hops: CounterDelta['hops'] = {};
  const unavailable = [...before.unavailable, ...after.unavailable];
  for (const [hop, now] of Object.entries(after.hops)) {
    const was = before.hops[hop];
    if (!was) continue;
    for (const [name, v] of Object.entries(now)) {
      const b = was[name] ?? 0;
      if (v === b) continue;
      if (v < b) {
        unavailable.push({ hop, reason: `${name} went from ${b} to ${v} (reset during the run)` });
        continue;
      }
      (hops[hop] ??= {})[name] = v - b;
    }
    for (const [name, b] of Object.entries(was))
      if (!(name in now) && b > 0)
        unavailable.push({ hop, reason: `${name} went from ${b} to none (reset during the run)` });
  }
  return { from: before.takenAt, to: after.takenAt, hops, unavailable };
}
