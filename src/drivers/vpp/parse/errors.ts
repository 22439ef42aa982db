/**
 * `show errors` and `show errors verbose` (vlib/error.c): count %10, node %=35, reason %=35, severity %=10
 * (verbose adds index %=6). Zero rows are hidden. Without `verbose` the rows of every thread follow each
 * other unlabelled, so the same node+reason can appear once per thread: rows are summed. With `verbose`
 * each thread has a `Thread N (name):` section, then a `Total:` section printed with other widths
 * (node %=40, reason cut at 20 characters): the thread sections are summed and `Total:` is not read.
 * Reasons longer than 35 characters arrive cut at 35 ("ARP request IP4 source address lear").
 */
import { count, fixedColumns, unrecognised, vppLines } from './text.ts';

export type VppSeverity = 'error' | 'warn' | 'info' | 'unknown';

export interface VppErrorCounter {
  node: string;
  /** VPP's description of the counter, cut at 35 characters by the CLI */
  reason: string;
  severity: VppSeverity;
  /** summed over threads */
  count: number;
}

const COLUMNS = [
  { title: 'Count', width: 10 },
  { title: 'Node', width: 35 },
  { title: 'Reason', width: 35 },
  { title: 'Severity', width: 10 },
] as const;

const SEVERITIES: readonly VppSeverity[] = ['error', 'warn', 'info'];

export function parseShowErrors(text: string): VppErrorCounter[] {
  const command = 'show errors';
  const lines = vppLines(text);
  const headerAt = lines.findIndex((l) => /^\s*Count\s+Node\s+Reason\s+Severity/.test(l));
  if (headerAt < 0) throw unrecognised(command, 'no "Count Node Reason Severity" header', text);
  const header = lines[headerAt] as string;
  const cells = fixedColumns(
    command,
    header,
    header.includes('Index') ? [...COLUMNS, { title: 'Index', width: 6 }] : COLUMNS,
  );
  const byKey = new Map<string, VppErrorCounter>();
  for (const line of lines.slice(headerAt + 1)) {
    if (line.trim() === '' || /^Thread \d+ /.test(line)) continue;
    if (line.startsWith('Total:')) break;
    const [c, node, reason, sev] = cells(line);
    if (!node || reason === undefined) throw unrecognised(command, 'row without node or reason', line);
    const severity = SEVERITIES.includes(sev as VppSeverity) ? (sev as VppSeverity) : 'unknown';
    const key = `${node}\u0000${reason}`;
    const row = byKey.get(key);
    if (row) row.count += count(command, 'count', c);
    else byKey.set(key, { node, reason, severity, count: count(command, 'count', c) });
  }
  return [...byKey.values()];
}
