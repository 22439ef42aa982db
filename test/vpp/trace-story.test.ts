/** VPP packet traces recorded from the real v24.10 lab, read into one-line stories per packet. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseShowTrace } from '../../src/drivers/vpp/parse/trace.ts';
import { summarizeStories, traceStory } from '../../src/drivers/vpp/trace-story.ts';

const stories = (scenario: string, instance: string) =>
  parseShowTrace(
    readFileSync(`test/fixtures/vpp/v24.10/${scenario}/after/${instance}/trace.txt`, 'utf8'),
  ).map(traceStory);

describe('VPP trace stories', () => {
  it('healthy security hop: NAT rewrites only the destination; nothing dropped', () => {
    const s = stories('healthy', 'sec');
    expect(s.length).toBeGreaterThan(0);
    expect(s.flatMap((x) => x.findings)).toEqual([]);
    expect(s[0]?.nodes).toContain('esp4-encrypt-tun');
    expect(s[0]?.kernelRxNs).toBeGreaterThan(1_700_000_000n * 1_000_000_000n);
  });

  it('NAT the wrong way round: the source rewrite is named with the NAT node', () => {
    const summary = summarizeStories(stories('natReversed', 'sec'));
    expect(summary[0]?.finding).toMatch(/^source 10\.10\.10\.5 → 172\.20\.102\.50 by nat44-ed-in2out/);
  });

  it('MTU lowered under DF: the drop is named with the node and reason', () => {
    const summary = summarizeStories(stories('mtuLowered', 'vx'));
    const drop = summary.find((f) => f.finding.startsWith('dropped'));
    expect(drop?.finding).toMatch(/MTU exceeded/);
  });
});
