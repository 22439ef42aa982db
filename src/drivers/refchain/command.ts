/**
 * Running the chain's external commands (ip, nft, tc, swanctl, ...) through execa: argument arrays only,
 * a timeout on each, and failures turned into ChainprobeError with the command line and its stderr.
 * Command lines never carry secrets (PSKs live in 0600 files, keys are never passed as arguments).
 */
import { execa } from 'execa';
import { ChainprobeError } from '../../errors.ts';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface CommandOptions {
  /** Text for stdin (nft rulesets, `ip -batch -`). */
  input?: string;
  timeoutMs?: number;
  /** false: return a non-zero exit code instead of throwing. */
  check?: boolean;
  env?: Record<string, string>;
}

const run = (
  cmd: string,
  args: string[],
  input: string | undefined,
  timeout: number,
  env?: Record<string, string>,
) =>
  execa(cmd, args, { input, timeout, reject: false, env, stdin: input === undefined ? 'ignore' : undefined });

export async function command(cmd: string, args: string[], o: CommandOptions = {}): Promise<CommandResult> {
  const timeout = o.timeoutMs ?? 10_000;
  const line = [cmd, ...args].join(' ');
  let r: Awaited<ReturnType<typeof run>>;
  try {
    r = await run(cmd, args, o.input, timeout, o.env);
  } catch (e) {
    throw new ChainprobeError('E_CHAIN', `${line}: ${(e as Error).message}`);
  }
  if (r.timedOut) throw new ChainprobeError('E_TIMEOUT', `${line} did not finish within ${timeout} ms`);
  if (r.failed && r.exitCode === undefined)
    throw new ChainprobeError('E_CHAIN', `${line}: ${r.shortMessage}`);
  const result = {
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    exitCode: r.exitCode ?? -1,
  };
  if (o.check !== false && result.exitCode !== 0) {
    throw new ChainprobeError(
      'E_CHAIN',
      `${line} failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  return result;
}

/** Runs a command inside a network namespace. */
export function inNetns(ns: string, cmd: string, args: string[], o?: CommandOptions): Promise<CommandResult> {
  return command('ip', ['netns', 'exec', ns, cmd, ...args], o);
}

/** Many `ip` commands in one process (`ip -n NS -batch -`): the chain is built in a few hundred ms. */
export function ipBatch(ns: string, lines: string[], o?: CommandOptions): Promise<CommandResult> {
  return command('ip', ['-n', ns, '-batch', '-'], { ...o, input: `${lines.join('\n')}\n` });
}
