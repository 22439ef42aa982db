/**
 * `vppctl` through a hop's transport (netns, docker exec, SSH): one CLI command per call, argument
 * array, timeout. VPP answers CLI errors with exit code 0 and a message on stdout, so those are
 * recognised here and raised as errors naming the hop and the command.
 *
 * Output may contain SA keys (`show ipsec sa N`): callers parse it and never log it raw; errors carry
 * only the first line of VPP's answer.
 */
import type { HopSpec, VppHopSpec } from '../../chain/profile.ts';
import { ChainprobeError } from '../../errors.ts';
import type { Transport } from '../../transport/transport.ts';

/** VPP's CLI error replies (vlib's unformat errors, "failed: -N", unknown commands). */
const CLI_ERROR = /^(unknown input|parse error|.*: unknown input|failed: -?\d+|.*: failed: -?\d+)/m;

/** Answers VPP words as errors that the parsers read as a state (no such bridge domain; nothing captured). */
const STATE_ANSWERS = /^(show bridge-domain: No such bridge domain|pcap trace: No packets captured)/;

/**
 * The error in VPP's answer to `command`, if it is one. vlib/cli.c prefixes every command error with the
 * path of the command that failed ("set interface state: unknown interface `x'", "ipsec sa: parse error:
 * …", "create host-interface: Invalid interface name"), so a first line "<words of the command>: …" is an
 * error whatever its wording; typed words may abbreviate the path's ("sh int" → "show interface: …").
 */
export function vppCliError(command: string, stdout: string): string | undefined {
  const first = stdout.replace(/^[\r\n]+/, '').split(/\r?\n/)[0] ?? '';
  const at = first.indexOf(': ');
  const path = at > 0 ? first.slice(0, at).split(' ') : [];
  const typed = command.trim().split(/\s+/);
  const prefixed =
    path.length > 0 && path.length <= typed.length && path.every((w, i) => w.startsWith(typed[i] as string));
  if (prefixed && !STATE_ANSWERS.test(first)) return first;
  return CLI_ERROR.test(stdout) ? first : undefined;
}

export class Vppctl {
  readonly spec: VppHopSpec;

  constructor(
    readonly hop: string,
    readonly transport: Transport,
    spec: VppHopSpec | undefined,
    readonly timeoutMs = 10_000,
  ) {
    this.spec = spec ?? { cli: '/run/vpp/cli.sock', vppctl: 'vppctl' };
  }

  static forHop(hop: HopSpec, transport: Transport): Vppctl {
    if (!hop.vpp)
      throw new ChainprobeError(
        'E_CONFIG',
        `hop "${hop.name}" has no "vpp" section: a VPP hop says where its CLI socket is ("vpp": { "cli": "/run/vpp/cli.sock" })`,
        true,
      );
    return new Vppctl(hop.name, transport, hop.vpp);
  }

  /** Runs one CLI command; returns VPP's text. */
  async exec(command: string): Promise<string> {
    const argv = [this.spec.vppctl, '-s', this.spec.cli, ...command.trim().split(/\s+/)];
    const r = await this.transport.run(argv, { timeoutMs: this.timeoutMs });
    const firstLine = (r.stdout.trim().split('\n')[0] ?? '').slice(0, 200);
    if (r.exitCode !== 0) {
      const why = (r.stderr.trim() || firstLine).split('\n')[0];
      const missing = r.exitCode === 127 || /not found|No such file/i.test(why);
      throw new ChainprobeError(
        missing ? 'E_MISSING_TOOL' : 'E_CHAIN',
        `vppctl at hop "${this.hop}" (${this.transport.description}, socket ${this.spec.cli}) failed on "${command}": ${why || `exit ${r.exitCode}`}`,
        false,
      );
    }
    const rejected = vppCliError(command, r.stdout);
    if (rejected !== undefined)
      throw new ChainprobeError(
        'E_CHAIN',
        `VPP at hop "${this.hop}" rejected "${command}": ${rejected.slice(0, 200)}`,
        false,
      );
    return r.stdout;
  }
}
