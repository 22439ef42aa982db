/**
 * `chainprobe doctor --a HOST --b HOST [--json OUT]`: is the VXLAN underlay between two hosts healthy?
 * Reads both ends' VXLAN configuration, sends marked probes both ways, captures at each underlay and
 * VXLAN interface, and names what is wrong with evidence and a fix. Exit 0 healthy, 1 broken, 2 bad input.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatDoctorReport, parseHost, runDoctor } from '../../doctor/index.ts';
import { UsageError } from '../errors.ts';

const HELP = `usage: chainprobe doctor --a HOST --b HOST [options]

  --a HOST, --b HOST   the two tunnel ends: netns:NAME | docker:CONTAINER | ssh:USER@HOST[:PORT]
  --a-dev NAME         A's VXLAN interface, when A has several (likewise --b-dev)
  --json FILE          write the report (findings with decoded evidence) as JSON
  --known-hosts FILE   known_hosts for ssh: hosts (default ~/.ssh/known_hosts; host keys are always checked)
  --identity FILE      SSH private key (default: the SSH agent)
  --sudo               run remote commands through sudo -n

Findings: nat-rewrite, udp-blocked, vni-mismatch, remote-mismatch, mtu-blackhole (with maxInnerBytes),
l2-drop, not-decapsulated, healthy. Exit 0 healthy, 1 broken, 2 bad input.`;

export async function run(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        a: { type: 'string' },
        b: { type: 'string' },
        'a-dev': { type: 'string' },
        'b-dev': { type: 'string' },
        json: { type: 'string' },
        'known-hosts': { type: 'string' },
        identity: { type: 'string' },
        sudo: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (typeof values.a !== 'string' || typeof values.b !== 'string')
    throw new UsageError(`--a and --b are required\n\n${HELP}`);
  const ssh = {
    knownHostsPath: values['known-hosts'] as string | undefined,
    privateKeyPath: values.identity as string | undefined,
    sudo: values.sudo === true,
  };
  // Bad host syntax is bad input: fail before touching anything.
  parseHost(values.a, ssh);
  parseHost(values.b, ssh);
  const report = await runDoctor({
    a: values.a,
    b: values.b,
    devices: { a: values['a-dev'] as string | undefined, b: values['b-dev'] as string | undefined },
    ssh,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  if (typeof values.json === 'string')
    writeFileSync(values.json, `${JSON.stringify(report, bigintJson, 2)}\n`);
  console.log(formatDoctorReport(report));
  return report.verdict === 'healthy' ? 0 : 1;
}

const bigintJson = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
