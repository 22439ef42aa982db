/**
 * `chainprobe doctor --a HOST --b HOST [--json OUT]`: is the VXLAN underlay between two hosts healthy?
 * Reads both ends' VXLAN configuration, sends marked probes both ways, captures at each underlay and
 * VXLAN interface, and names what is wrong with evidence and a fix. Exit 0 healthy, 1 broken, 2 bad input.
 */
import { writeFileSync } from 'node:fs';
import { formatDoctorReport, parseHost, runDoctor } from '../../doctor/index.ts';
import { UsageError } from '../errors.ts';
import { type ParsedValues, runCommand } from '../options.ts';

const HELP = `usage: chainprobe doctor --a HOST --b HOST [options]

  --a HOST, --b HOST   the two tunnel ends: netns:NAME | docker:CONTAINER | ssh:USER@HOST[:PORT]
  --a-dev NAME         A's VXLAN interface, when A has several (likewise --b-dev)
  --json FILE          write the report (findings with decoded evidence) as JSON
  --known-hosts FILE   known_hosts for ssh: hosts (default ~/.ssh/known_hosts; host keys are always checked)
  --identity FILE      SSH private key (default: the SSH agent)
  --sudo               run remote commands through sudo -n

Findings: nat-rewrite, udp-blocked, vni-mismatch, remote-mismatch, mtu-blackhole (with maxInnerBytes),
l2-drop, not-decapsulated, healthy. Exit 0 healthy, 1 broken, 2 bad input.`;

const OPTIONS = {
  a: { type: 'string' },
  b: { type: 'string' },
  'a-dev': { type: 'string' },
  'b-dev': { type: 'string' },
  json: { type: 'string' },
  'known-hosts': { type: 'string' },
  identity: { type: 'string' },
  sudo: { type: 'boolean' },
} as const;

export function run(args: string[]): Promise<number> {
  return runCommand(args, { usage: HELP, options: OPTIONS }, doctor);
}

async function doctor(values: ParsedValues<typeof OPTIONS>): Promise<number> {
  if (values.a === undefined || values.b === undefined) throw new UsageError('--a and --b are required');
  const ssh = {
    knownHostsPath: values['known-hosts'],
    privateKeyPath: values.identity,
    sudo: values.sudo === true,
  };
  // Bad host syntax is bad input: fail before touching anything.
  parseHost(values.a, ssh);
  parseHost(values.b, ssh);
  const report = await runDoctor({
    a: values.a,
    b: values.b,
    devices: { a: values['a-dev'], b: values['b-dev'] },
    ssh,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, bigintJson, 2)}\n`);
  console.log(formatDoctorReport(report));
  return report.verdict === 'healthy' ? 0 : 1;
}

const bigintJson = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
