/**
 * One VPP instance's parsed `show` output as named counters, in the project's naming (paths, as in VPP's
 * stats segment), with each counter's severity beside it:
 *   if/<interface>/<counter>   "if/host-sec1/tx-error", "if/host-sec0/rx-packets" (spaces become "-")
 *   err/<node>/<reason>        "err/ip4-input/ip4 MTU exceeded and DF set" (reason as the CLI prints it, ≤ 35 chars)
 *   sa/<spi>/packets|bytes     the SA's one combined counter (tx for an outbound SA, rx for an inbound one)
 *   sa/<spi>/err/<name>        "sa/1000/err/Integrity check failed"
 *   nat44/sessions             sessions over all threads
 */
import { parseShowErrors, type VppErrorCounter, type VppSeverity } from './parse/errors.ts';
import { parseShowInterface, type VppInterface } from './parse/interface.ts';
import { parseShowIpsecSa, type VppSa } from './parse/ipsec.ts';
import { parseShowNat44Sessions, type VppNatSessions } from './parse/nat44.ts';
import { type VppCommand, vppParserFor } from './parse/registry.ts';

export type CounterSeverity = 'error' | 'warn' | 'info';

export interface VppCounters {
  counters: Record<string, number>;
  /** counter name → severity, where VPP (or the counter's meaning) says it */
  severity: Record<string, CounterSeverity>;
}

/** What one instance answered; any part may be missing (a hop without NAT or IPsec). */
export interface VppInstanceOutput {
  interfaces?: VppInterface[];
  errors?: VppErrorCounter[];
  sas?: VppSa[];
  natSessions?: VppNatSessions;
}

/**
 * The commands whose answers hold counters, and where each goes. The driver runs them (plus `show ipsec sa N`
 * for every index `show ipsec sa` lists) and hands the answers to `vppInstanceOutput`.
 */
const COUNTER_SOURCES: { [C in VppCommand]?: (out: VppInstanceOutput, text: string) => void } = {
  'show interface': (out, text) => {
    out.interfaces = parseShowInterface(text);
  },
  'show errors': (out, text) => {
    out.errors = parseShowErrors(text);
  },
  'show ipsec sa N': (out, text) => {
    const sa = parseShowIpsecSa(text);
    if (sa) (out.sas ??= []).push(sa);
  },
  'show nat44 sessions': (out, text) => {
    out.natSessions = parseShowNat44Sessions(text);
  },
};

/** What the driver runs on every VPP hop for counters, beside `show ipsec sa N` for each SA listed. */
export const VPP_COUNTER_COMMANDS = ['show interface', 'show errors', 'show nat44 sessions'] as const;

/** One instance's answers (cli → text) read into what `vppCounters` takes; answers without counters are ignored. */
export function vppInstanceOutput(answers: { cli: string; text: string }[]): VppInstanceOutput {
  const out: VppInstanceOutput = {};
  for (const { cli, text } of answers) {
    const command = vppParserFor(cli)?.command;
    if (command) COUNTER_SOURCES[command]?.(out, text);
  }
  return out;
}

/** Interface counters that count packets VPP did not deliver. */
const INTERFACE_DROPS = new Set(['drops', 'rx-miss', 'rx-error', 'tx-error', 'rx-no-buf']);

const fromVppSeverity = (s: VppSeverity): CounterSeverity | undefined => (s === 'unknown' ? undefined : s);

export function vppCounters(output: VppInstanceOutput): VppCounters {
  const counters: Record<string, number> = {};
  const severity: Record<string, CounterSeverity> = {};
  const put = (name: string, value: number, sev?: CounterSeverity) => {
    counters[name] = (counters[name] ?? 0) + value;
    if (sev) severity[name] = sev;
  };
  for (const i of output.interfaces ?? []) {
    for (const [name, value] of Object.entries(i.counters)) {
      const counter = name.replace(/\s+/g, '-');
      put(`if/${i.name}/${counter}`, value, INTERFACE_DROPS.has(counter) ? 'error' : 'info');
    }
  }
  for (const e of output.errors ?? []) put(`err/${e.node}/${e.reason}`, e.count, fromVppSeverity(e.severity));
  for (const sa of output.sas ?? []) {
    put(`sa/${sa.spi}/packets`, sa.packets, 'info');
    put(`sa/${sa.spi}/bytes`, sa.bytes, 'info');
    for (const [name, value] of Object.entries(sa.errors)) put(`sa/${sa.spi}/err/${name}`, value, 'error');
  }
  if (output.natSessions) {
    put(
      'nat44/sessions',
      output.natSessions.perThread.reduce((n, t) => n + t.sessions, 0),
      'info',
    );
  }
  return { counters, severity };
}
