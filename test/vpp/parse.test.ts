/**
 * Every VPP parser on every recorded file of its command (test/fixtures/vpp, real VPP v24.10 output), with
 * assertions on values visible in the files. New recordings are covered by the loop automatically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseShowErrors } from '../../src/drivers/vpp/parse/errors.ts';
import {
  parseShowHardwareInterfaces,
  parseShowInterface,
  parseShowInterfaceAddr,
} from '../../src/drivers/vpp/parse/interface.ts';
import { parseShowIp4FullReassembly, parseShowIpFib } from '../../src/drivers/vpp/parse/ip.ts';
import { parseShowIpipTunnel } from '../../src/drivers/vpp/parse/ipip.ts';
import {
  parseShowIpsecProtect,
  parseShowIpsecSa,
  parseShowIpsecSaList,
  redactVppSecrets,
} from '../../src/drivers/vpp/parse/ipsec.ts';
import { parseShowBridgeDomainDetail, parseShowVxlanTunnel } from '../../src/drivers/vpp/parse/l2.ts';
import {
  parseShowNat44Addresses,
  parseShowNat44Interfaces,
  parseShowNat44Sessions,
  parseShowNat44StaticMappings,
} from '../../src/drivers/vpp/parse/nat44.ts';
import { VPP_PARSERS, vppParserFor } from '../../src/drivers/vpp/parse/registry.ts';
import { parsePcapTraceOff, parseShowTrace } from '../../src/drivers/vpp/parse/trace.ts';
import { readPacketsSync } from '../../src/pcap/index.ts';
import { recorded, recordedFiles, scenarios, VPP_FIXTURES } from './recorded.ts';

const files = recordedFiles();
const healthy = (instance: 'vx' | 'sec' | 'dst', stem: string) =>
  recorded('healthy', 'after', instance, stem);

describe('VPP parsers on every recorded file', () => {
  it('the recordings are there (four scenarios: healthy and three faults)', () => {
    expect(scenarios().sort()).toEqual(
      expect.arrayContaining(['healthy', 'interfaceDown', 'mtuLowered', 'natReversed']),
    );
    expect(files.length).toBeGreaterThan(400);
  });

  it.each(files.map((f) => [`${f.scenario}/${f.phase}/${f.instance}/${f.stem}`, f] as const))(
    '%s',
    (_, f) => {
      const parser = vppParserFor(f.command);
      expect(parser, `no parser for "${f.command}"`).toBeDefined();
      const parsed = parser?.parse(readFileSync(f.path, 'utf8'));
      expect(parsed === null || typeof parsed === 'object').toBe(true);
      // no parsed value ever carries an SA key in clear
      const text = readFileSync(f.path, 'utf8');
      for (const key of text.match(/key ([0-9a-f]{16,})/g) ?? [])
        expect(JSON.stringify(parsed).includes(key.slice(4))).toBe(false);
    },
  );

  it('every registered command has recorded output', () => {
    const recordedCommands = new Set(files.map((f) => vppParserFor(f.command)?.command));
    for (const command of Object.keys(VPP_PARSERS))
      expect(recordedCommands.has(command as never), command).toBe(true);
  });

  it('the registry normalises spacing and rejects commands it has no parser for', () => {
    expect(vppParserFor('  show   ipsec  sa 12 ')?.command).toBe('show ipsec sa N');
    expect(vppParserFor('show errors verbose')?.command).toBe('show errors');
    expect(vppParserFor('show runtime')).toBeUndefined();
  });
});

describe('show errors', () => {
  it('reads count, node, reason and severity (healthy security hop: 200 ESP packets encrypted, 600 fragments)', () => {
    const errors = parseShowErrors(healthy('sec', 'errors'));
    expect(errors).toContainEqual({
      node: 'esp4-encrypt-tun',
      reason: 'ESP pkts received',
      severity: 'info',
      count: 200,
    });
    expect(errors).toContainEqual({
      node: 'ip4-frag',
      reason: 'number of sent fragments',
      severity: 'info',
      count: 600,
    });
  });

  it('keeps reasons as VPP cuts them at 35 characters, and the MTU error of the mtuLowered fault', () => {
    expect(parseShowErrors(healthy('vx', 'errors'))).toContainEqual({
      node: 'arp-reply',
      reason: 'ARP request IP4 source address lear',
      severity: 'info',
      count: 1,
    });
    expect(parseShowErrors(recorded('mtuLowered', 'after', 'vx', 'errors'))).toContainEqual({
      node: 'ip4-input',
      reason: 'ip4 MTU exceeded and DF set',
      severity: 'error',
      count: 100,
    });
  });

  it('verbose (thread sections, Total cut at 20 characters) reads the same as non-verbose, in every recording', () => {
    for (const f of files.filter((x) => x.stem === 'errors')) {
      const plain = parseShowErrors(readFileSync(f.path, 'utf8'));
      const verbose = parseShowErrors(
        readFileSync(f.path.replace(/errors\.txt$/, 'errors-verbose.txt'), 'utf8'),
      );
      expect(verbose, f.path).toEqual(plain);
    }
  });

  it('sums the unlabelled per-thread rows of non-verbose output', () => {
    // with two threads VPP prints the header, then thread 0's rows, then thread 1's rows, unlabelled
    const [header, ...rows] = healthy('sec', 'errors').split('\r\n');
    const twoThreads = [header, ...rows, ...rows].join('\r\n');
    expect(parseShowErrors(twoThreads)).toContainEqual({
      node: 'ip4-frag',
      reason: 'number of sent fragments',
      severity: 'info',
      count: 1200,
    });
  });

  it('an empty table is no errors; output that is not the table is a typed error', () => {
    expect(parseShowErrors(recorded('healthy', 'before', 'sec', 'errors'))).toEqual([]);
    expect(() => parseShowErrors('unknown input `erors`')).toThrow(
      expect.objectContaining({ code: 'E_VPP_OUTPUT' }),
    );
  });
});

describe('interfaces', () => {
  it('show interface: state, MTUs and counters by VPP name', () => {
    const sec = parseShowInterface(healthy('sec', 'interface'));
    expect(sec.map((i) => i.name)).toEqual(['host-sec0', 'host-sec1', 'ipip0', 'local0']);
    expect(sec[1]).toEqual({
      name: 'host-sec1',
      index: 2,
      state: 'up',
      mtu: { l3: 1400, ip4: 0, ip6: 0, mpls: 0 },
      counters: { 'tx packets': 700, 'tx bytes': 846600 },
    });
    const vx = parseShowInterface(recorded('mtuLowered', 'after', 'vx', 'interface'));
    expect(vx.find((i) => i.name === 'host-vx0')?.counters).toMatchObject({ drops: 1, punt: 6, ip4: 206 });
    expect(vx.find((i) => i.name === 'host-vx1')?.mtu.l3).toBe(1000);
    expect(
      parseShowInterface(recorded('interfaceDown', 'after', 'sec', 'interface')).find(
        (i) => i.name === 'host-sec1',
      )?.state,
    ).toBe('down');
  });

  it('show interface addr: addresses, bridge membership and BVI, unnumbered', () => {
    const vx = parseShowInterfaceAddr(healthy('vx', 'interface-addr'));
    expect(vx.find((i) => i.name === 'loop0')).toEqual({
      name: 'loop0',
      up: true,
      l3: ['10.10.10.1/24'],
      bridge: { bdId: 10, bvi: true },
    });
    expect(vx.find((i) => i.name === 'vxlan_tunnel0')?.bridge).toEqual({ bdId: 10, bvi: false });
    expect(vx.find((i) => i.name === 'local0')).toEqual({ name: 'local0', up: false, l3: [] });
    const sec = parseShowInterfaceAddr(healthy('sec', 'interface-addr'));
    expect(sec.find((i) => i.name === 'ipip0')).toMatchObject({
      unnumberedFrom: 'host-sec1',
      l3: ['172.20.103.1/24'],
    });
  });

  it('show hardware-interfaces: link, MAC, af_packet host interface and ring version', () => {
    const sec = parseShowHardwareInterfaces(healthy('sec', 'hardware-interfaces'));
    expect(sec.find((i) => i.name === 'host-sec1')).toEqual({
      name: 'host-sec1',
      index: 2,
      link: 'up',
      hardware: 'host-sec1',
      mac: '02:00:00:14:67:01',
      afPacket: { hostInterface: 'sec1', version: 'v2' },
    });
    expect(sec.find((i) => i.name === 'ipip0')).toEqual({
      name: 'ipip0',
      index: 3,
      link: 'up',
      hardware: 'ipip0',
    });
    const vx = parseShowHardwareInterfaces(healthy('vx', 'hardware-interfaces'));
    expect(vx.find((i) => i.name === 'loop0')?.mac).toBe('02:00:00:0a:0a:01');
  });
});

describe('tunnels and bridge domain', () => {
  it('show ipip tunnel: both ends of the ESP tunnel (recorded from the interfaceDown run on)', () => {
    const withIpip = scenarios().filter((s) =>
      files.some((f) => f.scenario === s && f.stem === 'ipip-tunnel'),
    );
    expect(withIpip.length).toBeGreaterThan(0);
    for (const s of withIpip) {
      expect(parseShowIpipTunnel(recorded(s, 'after', 'sec', 'ipip-tunnel'))).toEqual([
        { instance: 0, src: '172.20.103.1', dst: '172.20.103.2', tableId: 0, swIfIndex: 3 },
      ]);
      expect(parseShowIpipTunnel(recorded(s, 'after', 'dst', 'ipip-tunnel'))[0]).toMatchObject({
        src: '172.20.103.2',
        dst: '172.20.103.1',
      });
      expect(parseShowIpipTunnel(recorded(s, 'after', 'vx', 'ipip-tunnel'))).toEqual([]);
    }
  });

  it('show vxlan tunnel', () => {
    expect(parseShowVxlanTunnel(healthy('vx', 'vxlan-tunnel'))).toEqual([
      {
        instance: 0,
        src: '172.20.100.10',
        dst: '172.20.100.1',
        srcPort: 4789,
        dstPort: 4789,
        vni: 100,
        fibIndex: 0,
        swIfIndex: 3,
      },
    ]);
    expect(parseShowVxlanTunnel(healthy('sec', 'vxlan-tunnel'))).toEqual([]);
  });

  it('show bridge-domain 10 detail: BVI and members; none on the other hops', () => {
    expect(parseShowBridgeDomainDetail(healthy('vx', 'bridge-domain-10-detail'))).toEqual({
      bdId: 10,
      index: 1,
      bvi: 'loop0',
      learning: true,
      flooding: true,
      members: [
        { name: 'loop0', swIfIndex: 4, shg: 0, bvi: true },
        { name: 'vxlan_tunnel0', swIfIndex: 3, shg: 0, bvi: false },
      ],
    });
    expect(parseShowBridgeDomainDetail(healthy('sec', 'bridge-domain-10-detail'))).toBeNull();
  });
});

describe('NAT44', () => {
  it('static mappings', () => {
    expect(parseShowNat44StaticMappings(healthy('sec', 'nat44-static-mappings'))).toEqual([
      {
        protocol: 'UDP',
        local: { address: '172.20.102.10', port: 2055 },
        external: { address: '10.10.10.10', port: 2055 },
        vrf: 0,
        flags: [],
      },
    ]);
    expect(parseShowNat44StaticMappings(healthy('dst', 'nat44-static-mappings'))).toEqual([]);
  });

  it('interfaces inside/outside, and the pool address of the reversed configuration', () => {
    expect(parseShowNat44Interfaces(healthy('sec', 'nat44-interfaces'))).toEqual([
      { name: 'host-sec0', inside: false, outside: true },
      { name: 'ipip0', inside: true, outside: false },
    ]);
    expect(parseShowNat44Interfaces(recorded('natReversed', 'after', 'sec', 'nat44-interfaces'))).toEqual([
      { name: 'ipip0', inside: false, outside: true },
      { name: 'host-sec0', inside: true, outside: false },
    ]);
    expect(parseShowNat44Addresses(healthy('sec', 'nat44-addresses'))).toEqual({ pool: [], twiceNat: [] });
    expect(parseShowNat44Addresses(recorded('natReversed', 'after', 'sec', 'nat44-addresses'))).toEqual({
      pool: ['172.20.102.50'],
      twiceNat: [],
    });
  });

  it('sessions: per-thread count, both rewrites, packets', () => {
    const s = parseShowNat44Sessions(healthy('sec', 'nat44-sessions'));
    expect(s.perThread).toEqual([{ thread: 0, name: 'vpp_main', sessions: 1 }]);
    expect(s.sessions).toHaveLength(1);
    expect(s.sessions[0]).toMatchObject({
      protocol: 'UDP',
      kind: 'static',
      totalPackets: 200,
      totalBytes: 815600,
      i2o: { rewrite: { saddr: '10.10.10.10', sport: 2055 } },
      o2i: { rewrite: { daddr: '172.20.102.10', dport: 2055 } },
    });
    // NAT the wrong way round: a dynamic session rewrites the probe's source to the pool address
    expect(
      parseShowNat44Sessions(recorded('natReversed', 'after', 'sec', 'nat44-sessions')).sessions,
    ).toMatchObject([
      {
        kind: 'dynamic',
        totalPackets: 200,
        i2o: { rewrite: { saddr: '172.20.102.50', sport: 40000, daddr: '172.20.102.10', dport: 2055 } },
      },
    ]);
    expect(parseShowNat44Sessions(healthy('dst', 'nat44-sessions'))).toEqual({
      perThread: [{ thread: 0, name: 'vpp_main', sessions: 0 }],
      sessions: [],
    });
  });
});

describe('IPsec', () => {
  it('show ipsec sa lists index, id and SPI', () => {
    expect(parseShowIpsecSaList(healthy('sec', 'ipsec-sa'))).toEqual([
      { index: 0, id: 1000, spi: 1000, protocol: 'esp', flags: ['aead', 'ctr'] },
      { index: 1, id: 2000, spi: 2000, protocol: 'esp', flags: ['aead', 'ctr'] },
    ]);
  });

  it('show ipsec sa N: algorithm, salt, seq, packets and every SA error counter', () => {
    const out = parseShowIpsecSa(healthy('sec', 'ipsec-sa-0'));
    if (!out) throw new Error('no SA 0 on sec');
    expect(out).toMatchObject({
      index: 0,
      spi: 1000,
      salt: 0,
      seq: 200,
      seqHi: 0,
      cryptoAlg: 'aes-gcm-128',
      integrityAlg: 'none',
      packets: 200,
      bytes: 819600,
    });
    expect(Object.keys(out.errors)).toHaveLength(16);
    expect(out.errors).toMatchObject({
      'packets lost': 0,
      'Integrity check failed': 0,
      'IP fragments drop': 0,
    });
    // the destination's inbound SA counts what it decrypted
    expect(parseShowIpsecSa(healthy('dst', 'ipsec-sa-1'))).toMatchObject({ spi: 1000, packets: 200 });
    expect(parseShowIpsecSa(healthy('vx', 'ipsec-sa-0'))).toBeNull();
  });

  it('the key is only in the secret, which redacts itself; redactVppSecrets cleans raw text', () => {
    const withSa = files.filter((x) => /^ipsec-sa-\d+$/.test(x.stem) && x.instance !== 'vx');
    expect(withSa.length).toBeGreaterThan(0);
    for (const f of withSa) {
      const raw = readFileSync(f.path, 'utf8');
      const key = raw.match(/crypto alg \S+ key ([0-9a-f]+)/)?.[1] as string;
      expect(key, f.path).toMatch(/^[0-9a-f]{32}$/);
      const sa = parseShowIpsecSa(raw);
      if (!sa) throw new Error(`${f.path}: no SA`);
      expect(sa.secret.reveal().crypto === key, f.path).toBe(true);
      expect(sa.secret.reveal().integrity).toBeUndefined(); // VPP printed "[redacted]" for integrity alg none
      for (const shown of [
        JSON.stringify(sa),
        inspect(sa, { depth: 9 }),
        String(sa.secret),
        `${sa.secret}`,
        redactVppSecrets(raw),
      ])
        expect(shown.includes(key), f.path).toBe(false);
      expect(redactVppSecrets(raw)).toContain('crypto alg aes-gcm-128 key [redacted]');
    }
    // the CLI that creates SAs carries keys too
    const cli =
      'ipsec sa add 1000 spi 1000 esp crypto-alg aes-gcm-128 crypto-key 0123456789abcdeffedcba9876543210';
    expect(redactVppSecrets(cli)).toBe(
      'ipsec sa add 1000 spi 1000 esp crypto-alg aes-gcm-128 crypto-key [redacted]',
    );
  });

  it('show ipsec protect: output SA and input SAs per tunnel, mirrored between the two ends', () => {
    const [sec] = parseShowIpsecProtect(healthy('sec', 'ipsec-protect'));
    const [dst] = parseShowIpsecProtect(healthy('dst', 'ipsec-protect'));
    expect(sec?.interface).toBe('ipip0');
    expect(sec?.outputSa.spi).toBe(1000);
    expect(sec?.inputSas.map((s) => s.spi)).toEqual([2000]);
    expect(dst?.outputSa.spi).toBe(2000);
    expect(dst?.inputSas.map((s) => s.spi)).toEqual([1000]);
    expect(parseShowIpsecProtect(healthy('vx', 'ipsec-protect'))).toEqual([]);
  });
});

describe('IPv4', () => {
  it('show ip fib: the route to the collector goes through ipip0, stacked on host-sec1 (MTU 1400), 200 packets', () => {
    const fib = parseShowIpFib(healthy('sec', 'ip-fib'));
    expect(fib.find((e) => e.prefix === '172.20.102.0/24')).toEqual({
      vrf: 0,
      prefix: '172.20.102.0/24',
      packets: 200,
      bytes: 815600,
      paths: [
        {
          kind: 'via',
          via: '0.0.0.0',
          interface: 'ipip0',
          mtu: 9000,
          stackedOn: { kind: 'via', via: '172.20.103.2', interface: 'host-sec1', mtu: 1400 },
        },
      ],
    });
    expect(fib.find((e) => e.prefix === '10.10.10.10/32')?.paths).toEqual([
      { kind: 'receive', via: '10.10.10.10', interface: 'host-sec0' },
    ]);
    expect(fib.find((e) => e.prefix === '172.20.101.0/24')?.paths[0]).toMatchObject({
      kind: 'glean',
      interface: 'host-sec0',
    });
    expect(fib.find((e) => e.prefix === '0.0.0.0/0')?.paths).toEqual([{ kind: 'drop' }]);
  });

  it('show ip4-full-reassembly', () => {
    expect(parseShowIp4FullReassembly(healthy('dst', 'ip4-full-reassembly'))).toEqual({
      currentReassemblies: 0,
      maxConcurrentPerThread: 1024,
      maxFragmentsPerDatagram: 16,
      timeoutMs: 200,
      expireWalkIntervalMs: 50,
    });
    expect(parseShowIp4FullReassembly(healthy('sec', 'ip4-full-reassembly')).maxFragmentsPerDatagram).toBe(3);
  });
});

describe('tracing and pcap inside VPP', () => {
  it('show trace: per packet the nodes it visited, in time order', () => {
    const packets = parseShowTrace(healthy('sec', 'trace'));
    expect(packets.length).toBeGreaterThan(0);
    expect(packets.length).toBeLessThanOrEqual(50);
    const first = packets[0];
    expect(first?.number).toBe(1);
    expect(first?.steps.slice(0, 3).map((s) => s.node)).toEqual([
      'af-packet-input',
      'ethernet-input',
      'ip4-input',
    ]);
    expect(first?.steps.map((s) => s.node)).toEqual(
      expect.arrayContaining(['nat44-ed-out2in-slowpath', 'esp4-encrypt-tun', 'host-sec1-tx']),
    );
    const [, time, h, m, sec, us] =
      healthy('sec', 'trace').match(/((\d+):(\d+):(\d+):(\d+)): af-packet-input/) ?? [];
    expect(first?.steps[0]?.time).toBe(time);
    expect(first?.steps[0]?.seconds).toBeCloseTo(
      Number(h) * 3600 + Number(m) * 60 + Number(sec) + Number(us) / 1e6,
      6,
    );
    expect(first?.steps[2]?.lines).toContain('UDP: 10.10.10.5 -> 10.10.10.10');
    for (const p of packets)
      for (let i = 1; i < p.steps.length; i++)
        expect(p.steps[i]?.seconds).toBeGreaterThanOrEqual(p.steps[i - 1]?.seconds as number);
  });

  it('pcap trace off: file and packets written equal the packets in the pcap VPP wrote; max reached or not', () => {
    for (const scenario of scenarios()) {
      for (const instance of ['vx', 'sec', 'dst'] as const) {
        const off = parsePcapTraceOff(recorded(scenario, 'after', instance, 'pcap-trace-off'), 10000);
        const pcap = join(VPP_FIXTURES, scenario, 'after', instance, 'pcap-trace.pcap');
        expect(off.limitHit).toBe(false);
        if (off.packets === 0) {
          // "No packets captured...": VPP wrote no file
          expect(off.file).toBeNull();
          expect(existsSync(pcap)).toBe(false);
          continue;
        }
        expect(off.file).toBe(`/tmp/chainprobe-${instance}.pcap`);
        expect(off.packets, `${scenario}/${instance}`).toBe([...readPacketsSync(readFileSync(pcap))].length);
      }
    }
    const sec = healthy('sec', 'pcap-trace-off');
    expect(parsePcapTraceOff(sec)).toEqual({
      file: '/tmp/chainprobe-sec.pcap',
      packets: 900,
      limitHit: null,
    });
    expect(parsePcapTraceOff(sec, 900).limitHit).toBe(true);
    expect(() => parsePcapTraceOff('pcap dispatch capture disabled')).toThrow(/pcap trace off/);
  });
});
