/** What doctor reports: findings with evidence and a fix, and the verdict. */
import type { Sighting } from './observe.ts';
import type { Direction } from './probes.ts';

export const FINDING_KINDS = [
  'nat-rewrite',
  'udp-blocked',
  'vni-mismatch',
  'remote-mismatch',
  'mtu-blackhole',
  'l2-drop',
  'not-decapsulated',
  'not-evaluated',
  'healthy',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  severity: 'info' | 'error';
  /** the probe direction the evidence comes from (absent for configuration-only findings) */
  direction?: Direction;
  summary: string;
  evidence: {
    /** the probe as the sender's underlay capture saw it leave */
    sent?: Sighting;
    /** as the receiver's underlay capture saw it arrive */
    received?: Sighting;
    /** as the receiver's VXLAN interface got it (decapsulated) */
    decapsulated?: Sighting;
    /** counts and configuration facts the finding rests on */
    facts: Record<string, unknown>;
  };
  fix: string;
  /** mtu-blackhole: the largest inner IPv4 packet (bytes) that crossed, found by search */
  maxInnerBytes?: number;
}

export interface DoctorReport {
  schema: 'chainprobe.doctor/1';
  verdict: 'healthy' | 'broken';
  hosts: Record<'a' | 'b', unknown>;
  findings: Finding[];
  rounds: { probes: number; captureDrops: number }[];
  durationMs: number;
}

export function verdictOf(findings: Finding[]): 'healthy' | 'broken' {
  return findings.some((f) => f.severity === 'error') ? 'broken' : 'healthy';
}
