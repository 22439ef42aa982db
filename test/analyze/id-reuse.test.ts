/**
 * IPv4 ID reuse by an ESP endpoint, in captures made by scapy alone (fixtures/vectors/make-vpp-captures.py):
 * with --scapy-outer-ids every ESP datagram carries the ID scapy's SecurityAssociation gives it (1), as some
 * endpoints do. The analyser must reassemble as Linux does (a completed datagram frees its key), follow every
 * probe, and report the reuse as a finding of its own (RFC 6864) — not as thousands of violations, and not
 * by losing sight of the probes at the wire. When two datagrams with one key are genuinely in flight at once
 * (--interleave), that is reported, and no datagram is put together from pieces of both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyzeCaptures } from '../../src/analyze/analyze.ts';
import { loadProfile } from '../../src/chain/profile.ts';
import type { RunResults } from '../../src/report/results.ts';
import '../../src/vitest/matchers.ts';

const POINTS = ['ingress', 'decap', 'wire', 'delivered'];
const profile = loadProfile('fixtures/vpp-testing.json');
const tmp = mkdtempSync(join(tmpdir(), 'cp-idreuse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const generate = (dir: string, ...args: string[]) =>
  execa('/usr/bin/python3', ['fixtures/vectors/make-vpp-captures.py', ...args, join(tmp, dir)]);
const analyse = (dir: string) =>
  analyzeCaptures({
    profile,
    captures: POINTS.map((name) => ({ name, source: join(tmp, dir, `${name}.pcap`) })),
  });
const check = (r: RunResults, name: string) => r.checks.find((c) => c.name === name)!;

beforeAll(async () => {
  await Promise.all([
    generate('constant', '--scapy-outer-ids'),
    generate('interleaved', '--scapy-outer-ids', '--interleave', '9,19'),
  ]);
  // the independent view: every ESP packet scapy wrote carries outer ID 1
  const ids = await execa('tshark', [
    '-r',
    join(tmp, 'constant', 'wire.pcap'),
    '-T',
    'fields',
    '-e',
    'ip.id',
  ]);
  expect(new Set(ids.stdout.trim().split('\n'))).toEqual(new Set(['0x0001']));
});

describe('an ESP endpoint that gives every datagram the same IPv4 ID', () => {
  test('every probe is followed through the wire; the reuse is one finding, not violations', async () => {
    const r = await analyse('constant');
    expect(r).toPassVerdict();
    expect(r.hops.map((h) => h.seen)).toEqual([100, 100, 100, 100]);
    expect(r.fragmentation.reassembled).toBe(10);
    expect(r.fragmentation.violations).toBe(0);
    expect(r.esp.violations).toBe(0);
    // ten 8000-byte probes, one datagram each, all with ID 1: the nine after the first reuse it
    expect(r.findings).toEqual([
      expect.objectContaining({ kind: 'ip-id-reuse', capture: 'wire', hop: 'security', count: 9 }),
    ]);
    expect(r.findings[0].detail).toMatch(/RFC 6864/);
    expect(r.findings[0].detail).toMatch(/shortest gap 1\.9\d\d ms/); // jumbos are 2 ms apart
    expect(check(r, 'fragmentation').status).toBe('pass');
  });

  test('two datagrams with one key interleaved: reported as reuse in flight, never mis-paired', async () => {
    const r = await analyse('interleaved');
    const wire = r.findings.find((f) => f.capture === 'wire')!;
    expect(wire.kind).toBe('ip-id-reuse');
    expect(wire.detail).toMatch(/while a datagram with that key was in flight/);
    // probes 9 and 19 could not be told apart at the wire: not seen there, not blamed on a hop (both
    // reached delivered), no overlap "violation" and no undecryptable ESP from a mixed datagram
    expect(r.hops.find((h) => h.name === 'wire')!.seen).toBe(98);
    expect(r.hops.map((h) => h.lostHere)).toEqual([0, 0, 0, 0]);
    expect(r.fragmentation.violations).toBe(0);
    expect(r.esp.undecryptable).toBe(0);
    expect(r.esp.violations).toBe(0);
    expect(wire.detail).toMatch(/: 2 could not be reassembled, 0 mixed/); // probes 9 and 19, counted once each
  });
});
