/** Profiles: both fixtures validate, and a bad profile names every bad field and what was expected. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ChainOracle } from '../../src/chain/oracle.ts';
import { loadProfile, ProfileError, parseProfile } from '../../src/chain/profile.ts';
import { ipv4ToString } from '../../src/codec/address.ts';

const vpp = () => JSON.parse(readFileSync('fixtures/vpp-testing.json', 'utf8'));
const problems = (value: unknown) => {
  try {
    parseProfile(value, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    return (e as ProfileError).message;
  }
  throw new Error('profile was accepted');
};

describe('profiles', () => {
  test('the shipped fixtures validate, and the VPP one states what the issue specifies', () => {
    const p = loadProfile('fixtures/vpp-testing.json');
    expect(p.traffic.outer).toMatchObject({
      srcIp: '172.20.100.1',
      dstIp: '172.20.100.10',
      dstPort: 4789,
      vni: 100,
      vxlanFlags: 8,
    });
    expect(p.captures.map((c) => c.name)).toEqual(['ingress', 'decap', 'wire', 'delivered']);
    expect(p.stages.map((s) => s.name)).toEqual(['ingress', 'decap', 'nat', 'esp', 'wire', 'delivered']);
    const ref = loadProfile('fixtures/reference.json');
    expect(ref.hops.map((h) => h.name)).toEqual(['vxlan', 'security', 'destination']);
    expect(ref.captures.map((c) => c.name)).toEqual(['ingress', 'decap', 'nat', 'wire', 'delivered']);
  });

  test('the oracle derives NAT, source preservation and MTU limits from the stages', () => {
    const o = new ChainOracle(loadProfile('fixtures/vpp-testing.json'));
    const t = o.innerTuples();
    expect(ipv4ToString(t.get('decap')!.dstIp)).toBe('10.10.10.10');
    expect(ipv4ToString(t.get('nat')!.dstIp)).toBe('172.20.102.10');
    expect(ipv4ToString(t.get('delivered')!.srcIp)).toBe('10.10.10.5');
    expect(o.fragmentLimits().get('wire')).toEqual({ outerMtuBytes: 1400, innerMtuBytes: null });
    const ref = new ChainOracle(loadProfile('fixtures/reference.json'));
    expect(ref.fragmentLimits().get('delivered')).toEqual({ outerMtuBytes: 1400, innerMtuBytes: 1400 });
    expect(() => ref.sas()).toThrowError(/takes its key at run time/);
  });

  test('bad fields are named with what was expected, all at once', () => {
    const p = vpp();
    p.traffic.outer.srcIp = '300.1.1.1';
    p.traffic.inner.dstMac = 'zz';
    p.stages[3].transform.sa.key = 'abc';
    p.captures[0].stage = 'nowhere';
    p.hops[0].transport = { kind: 'ssh', host: 'h', username: 'u' };
    const msg = problems(p);
    expect(msg).toMatch(/traffic\.outer\.srcIp: an IPv4 address/);
    expect(msg).toMatch(/traffic\.inner\.dstMac: a MAC address/);
    expect(msg).toMatch(/stages\[3\]\.transform\.sa\.key/);
    expect(msg).toMatch(/captures\[0\]\.stage: unknown stage "nowhere"; stages are ingress, decap/);
    expect(msg).toMatch(/host keys are always verified/);
  });

  test('unknown fields, duplicate names and a transform on the first stage are refused', () => {
    const p = vpp();
    p.traffic.outer.vnii = 100;
    expect(problems(p)).toMatch(/vnii/);
    const q = vpp();
    q.captures.push({ ...q.captures[0] });
    expect(problems(q)).toMatch(/duplicate name "ingress"/);
    const r = vpp();
    r.stages[0].transform = { kind: 'fragment', mtuBytes: 1400 };
    expect(problems(r)).toMatch(/the first stage is what is injected/);
  });

  test('an unreadable or non-JSON file is a ProfileError naming the file', () => {
    expect(() => loadProfile('fixtures/nope.json')).toThrowError(
      /invalid profile fixtures\/nope\.json:\n {2}- \(root\): cannot read file/,
    );
    expect(() => loadProfile('package-lock.json')).toThrowError(ProfileError);
    expect(() => loadProfile('README.md')).toThrowError(/not valid JSON/);
  });
});
