/**
 * JUnit output is checked with a real XML parser, not a regex: xmllint --noout when installed (libxml2-utils),
 * and always Python's expat (xml.etree) to read the structure back. With neither, the test fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJunit, writeJunit } from '../../src/report/junit.ts';
import { collectorReadings, flowExportRun, loadFixture } from './fixtures.ts';

const PARSE = `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
suite = root.find('testsuite')
out = {'root': root.tag, 'suite': dict(suite.attrib), 'cases': []}
for tc in suite.findall('testcase'):
    f = tc.find('failure')
    s = tc.find('skipped')
    out['cases'].append({'name': tc.get('name'), 'failure': None if f is None else {'message': f.get('message'), 'text': f.text},
                         'skipped': None if s is None else s.get('message')})
print(json.dumps(out))
`;

interface Parsed {
  root: string;
  suite: Record<string, string>;
  cases: { name: string; failure: { message: string; text: string } | null; skipped: string | null }[];
}

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function parse(xml: string): Parsed {
  if (has('xmllint')) {
    const lint = spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
    expect(lint.status, lint.stderr).toBe(0);
  }
  const py = spawnSync('python3', ['-c', PARSE], { input: xml, encoding: 'utf8' });
  if (py.error) throw new Error('no XML parser available: install python3 or libxml2-utils (xmllint)');
  expect(py.status, py.stderr).toBe(0);
  return JSON.parse(py.stdout) as Parsed;
}

describe('renderJunit', () => {
  it('passing run: one testcase per check, no failures', () => {
    const r = loadFixture('run-pass');
    const p = parse(renderJunit(r));
    expect(p.root).toBe('testsuites');
    expect(p.suite).toMatchObject({
      name: 'chainprobe',
      tests: '9',
      failures: '0',
      errors: '0',
      time: '1.002',
    });
    expect(p.cases.map((c) => c.name)).toEqual(r.checks.map((c) => c.name));
    expect(p.cases.every((c) => c.failure === null)).toBe(true);
  });

  it('failing run: the failing checks carry their detail', () => {
    const r = loadFixture('run-fail');
    const p = parse(renderJunit(r));
    expect(p.suite).toMatchObject({ tests: '9', failures: '3' });
    const failed = p.cases.filter((c) => c.failure).map((c) => c.name);
    expect(failed).toEqual(['delivery', 'source IP preserved', 'captures complete']);
    const delivery = p.cases.find((c) => c.name === 'delivery')!;
    expect(delivery.failure!.text).toBe(r.checks[0].detail);
    expect(delivery.failure!.message).toBe(`${r.checks[0].detail.slice(0, 199)}…`);
  });

  it('escapes markup and survives characters XML cannot hold', () => {
    const r = loadFixture('run-fail');
    r.checks[1] = {
      name: 'a "quoted" <check> & \'more\'',
      status: 'fail',
      pass: false,
      detail: '<script>alert(1)</script> & ]]> \u0001\u001b[31m',
    };
    const xml = renderJunit(r);
    expect(xml).not.toContain('<script>');
    const p = parse(xml);
    expect(p.cases[1].name).toBe('a "quoted" <check> & \'more\'');
    expect(p.cases[1].failure!.text).toBe('<script>alert(1)</script> & ]]> \uFFFD\uFFFD[31m');
  });

  it('flow export: the collector check is skipped without collectors, failed on socket drops, never passed unjudged', () => {
    const name = 'collector agrees with delivery';
    const none = parse(renderJunit(flowExportRun(null)));
    expect(none.suite).toMatchObject({ tests: '10', failures: '0', skipped: '1' });
    expect(none.cases.find((c) => c.name === name)).toEqual({
      name,
      failure: null,
      skipped: "not evaluated: the chain's driver has no flow collectors",
    });
    const readings = collectorReadings();
    readings[0].socketDrops = 37;
    const drops = parse(renderJunit(flowExportRun(readings)));
    expect(drops.suite).toMatchObject({ failures: '1', skipped: '0' });
    expect(drops.cases.find((c) => c.name === name)?.failure?.message).toMatch(
      /^collector socket overflow: nfcapd \(172\.20\.102\.11:2055\) lost 37 datagrams/,
    );
    const ok = parse(renderJunit(flowExportRun(collectorReadings())));
    expect(ok.cases.find((c) => c.name === name)).toMatchObject({ failure: null, skipped: null });
  });

  it('writeJunit creates the directory', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cp-junit-')), 'a', 'junit.xml');
    writeJunit(loadFixture('run-pass'), path);
    expect(readFileSync(path, 'utf8')).toBe(renderJunit(loadFixture('run-pass')));
  });
});
