/**
 * The VPP output recorded by test/vpp/record-fixtures.ts from the real lab: every file of every scenario,
 * phase and instance, with the command that produced it (the recorder names files after the command).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const VPP_FIXTURES = 'test/fixtures/vpp/v24.10';
export type Instance = 'vx' | 'sec' | 'dst';
export const INSTANCES: Instance[] = ['vx', 'sec', 'dst'];
/** the lab's instance behind each profile hop */
export const INSTANCE_OF_HOP: Record<string, Instance> = { vxlan: 'vx', security: 'sec', destination: 'dst' };

/** file stem → the vppctl command line it recorded (test/vpp/record-fixtures.ts `fileName`, inverted) */
const NOT_SHOW: Record<string, string> = { 'pcap-trace-off': 'pcap trace off', trace: 'show trace max 50' };
const HYPHENATED = ['hardware-interfaces', 'ip4-full-reassembly', 'bridge-domain'];
export function commandOf(stem: string): string {
  let words = stem.replace(/-/g, ' ');
  for (const h of HYPHENATED) words = words.replace(h.replace(/-/g, ' '), h);
  return NOT_SHOW[stem] ?? `show ${words}`;
}

export interface RecordedFile {
  scenario: string;
  phase: 'before' | 'after';
  instance: Instance;
  stem: string;
  command: string;
  path: string;
}

export function scenarios(): string[] {
  return readdirSync(VPP_FIXTURES).filter((s) => existsSync(join(VPP_FIXTURES, s, 'run-results.json')));
}

export function recordedFiles(): RecordedFile[] {
  const out: RecordedFile[] = [];
  for (const scenario of scenarios()) {
    for (const phase of ['before', 'after'] as const) {
      for (const instance of INSTANCES) {
        const dir = join(VPP_FIXTURES, scenario, phase, instance);
        if (!existsSync(dir)) continue;
        for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt'))) {
          const stem = f.replace(/\.txt$/, '');
          out.push({ scenario, phase, instance, stem, command: commandOf(stem), path: join(dir, f) });
        }
      }
    }
  }
  return out;
}

export const recorded = (
  scenario: string,
  phase: 'before' | 'after',
  instance: Instance,
  stem: string,
): string => readFileSync(join(VPP_FIXTURES, scenario, phase, instance, `${stem}.txt`), 'utf8');

export const runResults = (scenario: string) =>
  JSON.parse(readFileSync(join(VPP_FIXTURES, scenario, 'run-results.json'), 'utf8'));
