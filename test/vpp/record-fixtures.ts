/**
 * Records real VPP output as test fixtures (run by hand where VPP exists; CI has none):
 *
 *   CHAINPROBE_VPP=/opt/vpp-24.10 npx tsx test/vpp/record-fixtures.ts
 *
 * For each scenario (healthy, flow export, and each fault of issue 10's proof) it brings the lab up, runs a
 * short chainprobe run through it (200 probes; or 200 NetFlow v9/IPFIX datagrams of 10 exporters), and writes what every instance says, before and after, to
 * test/fixtures/vpp/<version>/<scenario>/<instance>/<command>.txt, plus a pcap trace of ipip0 and a
 * packet trace. Nothing here is edited by hand afterwards: parsers are tested on these files.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAULTS, type VppInstance, vppLabUp } from './lab.ts';

const SHOWS = [
  'show version',
  'show interface',
  'show interface addr',
  'show hardware-interfaces',
  'show errors',
  'show errors verbose',
  'show vxlan tunnel',
  'show bridge-domain 10 detail',
  'show nat44 static mappings',
  'show nat44 interfaces',
  'show nat44 addresses',
  'show nat44 sessions',
  'show ipsec sa',
  'show ipsec sa 0',
  'show ipsec sa 1',
  'show ipsec protect',
  'show ipip tunnel',
  'show ip fib',
  'show ip4-full-reassembly',
  'show clock verbose',
];
const INSTANCES: VppInstance[] = ['vx', 'sec', 'dst'];
const fileName = (cli: string) => cli.replace(/^show /, '').replace(/[^a-z0-9]+/gi, '-');

async function main() {
  // flowExport: the healthy chain carrying NetFlow v9 + IPFIX exporters instead of probes
  const scenarios = ['healthy', 'flowExport', ...Object.keys(FAULTS)] as const;
  const only = process.argv[2];
  const lab0 = await vppLabUp();
  const version = (await lab0.vppctl('vx', 'show version')).match(/vpp (v[\d.]+\S*)/)?.[1] ?? 'unknown';
  await lab0.down();
  const root = join('test/fixtures/vpp', version.replace(/-release$/, ''));
  for (const scenario of scenarios) {
    if (only && scenario !== only) continue;
    const lab = await vppLabUp();
    try {
      const dir = join(root, scenario);
      rmSync(dir, { recursive: true, force: true });
      if (scenario in FAULTS) await lab.fault(scenario as keyof typeof FAULTS);
      const dump = async (phase: string) => {
        for (const i of INSTANCES) {
          mkdirSync(join(dir, phase, i), { recursive: true });
          for (const cli of SHOWS)
            writeFileSync(join(dir, phase, i, `${fileName(cli)}.txt`), await lab.vppctl(i, cli));
        }
      };
      await dump('before');
      for (const i of INSTANCES) {
        await lab.vppctl(i, 'trace add af-packet-input 50');
        await lab.vppctl(
          i,
          `pcap trace rx tx max 10000 max-bytes-per-pkt 9000 intfc any file chainprobe-${i}.pcap`,
        );
      }
      // 200 probes, 100 B and 8000 B alternating; DF set where the fault is about DF
      let profile = 'fixtures/vpp-lab.json';
      if (scenario === 'mtuLowered' || scenario === 'flowExport') {
        const p = JSON.parse(readFileSync(profile, 'utf8'));
        if (scenario === 'mtuLowered') p.traffic.inner.dontFragment = true;
        // the lab profile names no driver (refchain by default), whose collectors a flow run would reset
        else p.driver = 'external';
        profile = `/tmp/chainprobe-vpp-lab-${scenario}.json`;
        writeFileSync(profile, JSON.stringify(p));
      }
      try {
        execFileSync(
          'node',
          [
            'bin/chainprobe.js',
            'run',
            '--profile',
            profile,
            '--count',
            '200',
            '--pps',
            '200',
            ...(scenario === 'flowExport'
              ? ['--traffic', 'netflow-v9:1,ipfix:1', '--exporters', '5']
              : ['--size', '100,8000']),
            '--json',
            join(dir, 'run-results.json'),
          ],
          { stdio: 'inherit' },
        );
      } catch {
        // a faulted chain fails its verdict: expected
      }
      for (const i of INSTANCES) {
        mkdirSync(join(dir, 'after', i), { recursive: true });
        writeFileSync(join(dir, 'after', i, 'pcap-trace-off.txt'), await lab.vppctl(i, 'pcap trace off'));
        const pcap = `/tmp/chainprobe-${i}.pcap`;
        try {
          writeFileSync(join(dir, 'after', i, 'pcap-trace.pcap'), readFileSync(pcap));
          rmSync(pcap);
        } catch {}
        writeFileSync(join(dir, 'after', i, 'trace.txt'), await lab.vppctl(i, 'show trace max 50'));
      }
      await dump('after');
      writeFileSync(
        join(dir, 'README.md'),
        `Recorded from real VPP ${version} (test/vpp/lab.ts, scenario "${scenario}") on ${new Date().toISOString()}\nby test/vpp/record-fixtures.ts; not edited by hand. SA keys are the lab's test keys (fixtures/vpp-lab.json).\n`,
      );
      console.log(`recorded ${dir}`);
    } finally {
      await lab.down();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
