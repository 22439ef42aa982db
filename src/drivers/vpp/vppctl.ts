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
    if (CLI_ERROR.test(r.stdout))
      throw new ChainprobeError(
        'E_CHAIN',
        `VPP at hop "${this.hop}" rejected "${command}": ${firstLine}`,
        false,
      );
    return r.stdout;
  }
}
