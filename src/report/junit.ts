/**
 * JUnit XML for CI dashboards: one testsuite "chainprobe", one testcase per verdict check, so a CI
 * system shows "source IP preserved" failing next to the detail that explains it. Times are 0 per
 * check (checks are evaluated after the run); the suite time is the run's duration.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { escapeXml } from './escape.ts';
import type { RunResults } from './results.ts';

/** First line of a detail, shortened: the `message` attribute CI systems show in one line. */
function message(detail: string): string {
  const line = detail.split(/\r?\n/, 1)[0];
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

export function renderJunit(results: RunResults): string {
  const r = results;
  const failures = r.checks.filter((c) => c.status === 'fail').length;
  const skipped = r.checks.filter((c) => c.status === 'not-evaluated').length;
  const seconds = (r.run.durationNs / 1e9).toFixed(3);
  // JUnit's schema wants a timestamp without zone; startedAt is UTC ISO.
  const timestamp = r.run.startedAt.replace(/(\.\d+)?Z$/, '');
  const classname = `chainprobe.${r.run.profile}`;
  const props: [string, string | number][] = [
    ['run.id', r.run.id],
    ['profile', r.run.profile],
    ['mode', r.run.mode],
    ['verdict', r.verdict],
    ['sent', r.sent],
    ['delivered', r.delivered],
    ['deliveryRatio', r.deliveryRatio],
    ['faultyHop', r.faultyHop ?? ''],
    ['tool.version', r.tool.version],
    ['tool.commit', r.tool.commit ?? ''],
    ['interrupted', r.run.interrupted ? r.run.interrupted.reason : ''],
  ];
  const a = escapeXml;
  const cases = r.checks.map((c) => {
    const open = `    <testcase classname="${a(classname)}" name="${a(c.name)}" time="0"`;
    if (c.status === 'pass')
      return `${open}>\n      <system-out>${a(c.detail)}</system-out>\n    </testcase>`;
    // nothing to judge: skipped with the reason, never reported as passed
    if (c.status === 'not-evaluated')
      return `${open}>\n      <skipped message="${a(message(c.detail))}"/>\n    </testcase>`;
    return `${open}>\n      <failure message="${a(message(c.detail))}" type="chainprobe.check">${a(c.detail)}</failure>\n    </testcase>`;
  });
  const summary = `${r.delivered}/${r.sent} delivered; verdict ${r.verdict}${r.faultySegment ? `; lost between ${r.faultySegment.from} and ${r.faultySegment.to} (${r.faultySegment.lost})` : ''}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="chainprobe" tests="${r.checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}">`,
    `  <testsuite name="chainprobe" tests="${r.checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}" timestamp="${a(timestamp)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${a(k)}" value="${a(v)}"/>`),
    '    </properties>',
    ...cases,
    `    <system-out>${a(summary)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function writeJunit(results: RunResults, path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderJunit(results));
  return path;
}
