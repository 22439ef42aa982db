/**
 * A child process on this host, in its own process group: `ip netns exec NS cmd`, `docker exec …` and the
 * commands they start are all killed together by signalling the group, so nothing survives a stop.
 */
import { execa } from 'execa';
import { ChainprobeError } from '../errors.ts';
import { trackProcess } from './registry.ts';
import { StderrTail } from './stderr-tail.ts';
import type { ExitStatus, RemoteProcess, SpawnOptions, StopSignal } from './transport.ts';

export interface LocalSpawnOptions extends SpawnOptions {
  /** For messages and the process registry. */
  description: string;
  /** Recognise "command not found" from a wrapper (ip netns exec, docker exec) in its exit. */
  missingTool?: (status: ExitStatus, stderr: string) => boolean;
  /** Extra synchronous cleanup when the harness exits (e.g. kill inside a container). */
  onExitKill?: () => void;
}

export function spawnLocal(
  argv: string[],
  opts: LocalSpawnOptions,
): RemoteProcess & { pid: number | undefined } {
  const [file, ...args] = argv;
  const child = execa(file, args, {
    detached: true, // own process group: a signal reaches ip-netns-exec'd and forked children alike
    buffer: false,
    reject: false,
    cleanup: false, // the registry does it, for the whole group
    stdin: opts.stdin ? 'pipe' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const pid = child.pid;
  const tail = new StderrTail();
  const stderr = child.stderr!.pipe(tail);

  const killGroup = (sig: NodeJS.Signals) => {
    if (pid === undefined || done) return;
    try {
      process.kill(-pid, sig);
    } catch {
      /* group already gone */
    }
  };
  let done = false;
  const untrack = trackProcess({
    description: `${opts.description}: ${argv.join(' ')}`,
    killNow: () => {
      opts.onExitKill?.();
      killGroup('SIGKILL');
    },
    kill: async () => {
      opts.onExitKill?.();
      killGroup('SIGKILL');
    },
  });

  const exited = child.then((r): ExitStatus => {
    done = true;
    untrack();
    if (r.failed && r.exitCode === undefined && r.signal === undefined) {
      const code = (r as { code?: string }).code;
      if (code === 'ENOENT')
        throw new ChainprobeError('E_MISSING_TOOL', `${file} is not installed (${opts.description})`, false, {
          argv,
        });
      throw new ChainprobeError(
        'E_TRANSPORT',
        `cannot start ${file} (${opts.description}): ${r.shortMessage}`,
        false,
        { argv },
      );
    }
    const status: ExitStatus = { exitCode: r.exitCode ?? null, signal: r.signal ?? null };
    if (opts.missingTool?.(status, tail.text()))
      throw new ChainprobeError(
        'E_MISSING_TOOL',
        `${argv.join(' ')}: command not found (${opts.description}): ${tail.text().trim()}`,
        false,
        { argv },
      );
    return status;
  });
  // Callers who only stream must not see an unhandled rejection if they never await `exited`.
  exited.catch(() => {});

  return {
    pid,
    stdout: child.stdout!,
    stderr,
    stdin: opts.stdin ? child.stdin! : undefined,
    signal: (sig: StopSignal) => killGroup(sig),
    exited,
  };
}
