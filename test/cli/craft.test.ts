/**
 * `chainprobe craft` end to end: the packets it writes for each stage of the VPP profile are checked by
 * tshark and scapy, not by chainprobe's own decoder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cp-craft-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => execa('node', ['bin/chainprobe.js', ...args], { reject: false });
const tshark = async (file: string, ...fields: string[]) =>
  (
    await execa('tshark', [
      '-r',
      file,
      '-o',
      'ip.check_checksum:TRUE',
      '-o',
      'udp.check_checksum:TRUE',
      '-T',
      'fields',
      ...fields.flatMap((f) => ['-e', f]),
    ])
  ).stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));

describe('chainprobe craft', () => {
  test('ingress: VXLAN VNI 100 frames that tshark dissects with valid checksums', async () => {
    const out = join(dir, 'ingress.pcap');
    const r = await cli(
      'craft',
      '--profile',
      'fixtures/vpp-testing.json',
      '--stage',
      'ingress',
      '--count',
      '10',
      '--size',
      '8000',
      '--out',
      out,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await tshark(
      out,
      'vxlan.vni',
      'ip.src',
      'ip.dst',
      'udp.dstport',
      'udp.length',
      'ip.checksum.status',
    );
    expect(rows).toHaveLength(10);
    for (const [vni, src, dst, dport, len, ck] of rows) {
      expect(vni).toBe('100');
      expect(src).toBe('172.20.100.1,10.10.10.5');
      expect(dst).toBe('172.20.100.10,10.10.10.10');
      expect(dport).toBe('4789,2055');
      expect(len.split(',')[1]).toBe('8008');
      expect(ck).toBe('1,1'); // Wireshark's checksum status: 0 bad, 1 good, 2 unverified
    }
  });

  test('wire: ESP SPI 1000 fragments ≤ 1400 that scapy reassembles and decrypts with the profile key', async () => {
    const out = join(dir, 'wire.pcap');
    const r = await cli(
      'craft',
      '--profile',
      'fixtures/vpp-testing.json',
      '--stage',
      'wire',
      '--count',
      '5',
      '--size',
      '8000',
      '--out',
      out,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await tshark(out, 'ip.len', 'ip.flags.df');
    expect(rows).toHaveLength(30); // VPP: one ESP packet per probe, fragmented once at 1400 → 6 frames
    for (const [len, df] of rows) {
      expect(Number(len)).toBeLessThanOrEqual(1400);
      expect(df).toBe('0');
    }
    const py = join(dir, 'check.py');
    writeFileSync(
      py,
      `import sys
from scapy.all import rdpcap, defragment, IP, UDP
from scapy.layers.ipsec import SecurityAssociation, ESP
# linktype 228 (raw IPv4): scapy 2.5 may hand back Raw; parse as IP explicitly
pkts = defragment([IP(bytes(p)) for p in rdpcap(sys.argv[1])])
sa = SecurityAssociation(ESP, spi=1000, crypt_algo='AES-GCM', crypt_key=bytes.fromhex('fedcba9876543210abcdef0123456789') + bytes(4),
                         tunnel_header=IP(src='172.20.101.20', dst='172.20.102.20'))
for p in pkts:
    p = IP(bytes(p))
    spi = p[ESP].spi  # read before decrypt: scapy strips the ESP layer in place
    inner = sa.decrypt(p)
    print(spi, inner[IP].src, inner[IP].dst, inner[UDP].dport, len(inner[UDP].payload))
`,
    );
    const { stdout } = await execa('/usr/bin/python3', [py, out]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toBe('1000 10.10.10.5 172.20.102.10 2055 8000');
  });

  test('pcapng output opens in tshark with the stage as interface name', async () => {
    const out = join(dir, 'nat.pcapng');
    const r = await cli(
      'craft',
      '--profile',
      'fixtures/vpp-testing.json',
      '--stage',
      'nat',
      '--count',
      '3',
      '--out',
      out,
      '--format',
      'pcapng',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await tshark(out, 'frame.interface_name', 'ip.dst', 'udp.dstport');
    expect(rows).toEqual(Array(3).fill(['nat', '172.20.102.10', '2055']));
  });

  test('bad input exits 2 and names the problem', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        schemaVersion: 1,
        name: 'x',
        labPrefixes: ['10.0.0.0/8'],
        traffic: {},
        stages: [],
        hops: [],
        captures: [],
      }),
    );
    const r1 = await cli('craft', '--profile', bad, '--stage', 'ingress', '--out', join(dir, 'x.pcap'));
    expect(r1.exitCode).toBe(2);
    expect(r1.stderr).toMatch(/traffic\.outer/);
    const r2 = await cli(
      'craft',
      '--profile',
      'fixtures/vpp-testing.json',
      '--stage',
      'nope',
      '--out',
      join(dir, 'x.pcap'),
    );
    expect(r2.exitCode).toBe(2);
    expect(r2.stderr).toMatch(/no stage "nope".*ingress, decap, nat, esp, wire, delivered/);
    const r3 = await cli(
      'craft',
      '--profile',
      'fixtures/vpp-testing.json',
      '--stage',
      'ingress',
      '--size',
      '70000',
      '--out',
      join(dir, 'x.pcap'),
    );
    expect(r3.exitCode).toBe(2);
    expect(r3.stderr).toMatch(/--size must be a whole number from 32 to \d+ \(the most this profile/);
    expect(r3.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace for bad input
  });
});
