/**
 * Reliable signals for processes behind a client (docker exec, SSH exec without a pty).
 *
 * Signalling the local `docker` CLI does not reach the process in the container, and OpenSSH ignores the
 * SSH "signal" channel request before 7.9 (and, with sudo, the user could not signal a root process anyway).
 * So every remote command is started as
 *     sh -c 'echo "@@chainprobe-pid $$" >&2; exec "$@"' sh ARGV…
 * — the shell reports its pid on stderr and *becomes* the command — and a signal is delivered by a second
 * exec of `kill -s SIG PID` at the same place. The marker line is removed from the stderr callers see.
 */
import { PassThrough } from 'node:stream';
import { ChainprobeError } from '../errors.ts';
import type { ExitStatus, RemoteProcess, StopSignal } from './transport.ts';

const MARKER = '@@chainprobe-pid ';

/** The argv that runs `argv` with its pid announced on stderr. Needs a POSIX `sh` at the far end. */
export function pidAnnouncingArgv(argv: string[]): string[] {
  return ['sh', '-c', `echo "${MARKER}$$" >&2; exec "$@"`, 'sh', ...argv];
}

export interface ClientProcess {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  stdin?: NodeJS.WritableStream;
  exited: Promise<ExitStatus>;
  /** Tear down the local side (docker CLI, SSH channel) when the remote kill cannot be delivered. */
  abandon(): void;
}

export function withRemotePid(
  client: ClientProcess,
  killRemote: (pid: number, sig: StopSignal) => Promise<void>,
  description: string,
  argv: string[],
): RemoteProcess & { pid: Promise<number | undefined> } {
  const stderr = new PassThrough();
  let head = '';
  let pidKnown = false;
  let resolvePid!: (pid: number | undefined) => void;
  const pid = new Promise<number | undefined>((r) => (resolvePid = r));
  let tail = '';
  // Read eagerly (not on demand) so the pid is learnt even if the caller never reads stderr.
  client.stderr.on('data', (chunk: Buffer | string) => {
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (!pidKnown) {
      head += text;
      const nl = head.indexOf('\n');
      if (nl < 0 && head.length < 200) return;
      pidKnown = true;
      const first = nl < 0 ? head : head.slice(0, nl);
      if (first.startsWith(MARKER)) {
        resolvePid(Number(first.slice(MARKER.length)));
        text = nl < 0 ? '' : head.slice(nl + 1);
      } else {
        resolvePid(undefined);
        text = head;
      }
      head = '';
    }
    tail = (tail + text).slice(-4096);
    if (text) stderr.write(text);
  });
  client.stderr.on('end', () => {
    if (!pidKnown && head) stderr.write(head);
    resolvePid(undefined);
    stderr.end();
  });
  client.stderr.on('error', (e) => stderr.destroy(e));

  let finished = false;
  const exited = client.exited.then((status) => {
    finished = true;
    resolvePid(undefined);
    // `exec "$@"` failing: dash says "exec: X: not found", busybox "exec: X: not found" too; both exit 127.
    if (status.exitCode === 127 && /(not found|No such file)/.test(tail))
      throw new ChainprobeError(
        'E_MISSING_TOOL',
        `${argv[0]}: command not found (${description}): ${tail.trim().slice(-300)}`,
        false,
        { argv },
      );
    return status;
  });
  exited.catch(() => {});

  const signal = (sig: StopSignal) => {
    void pid.then(async (p) => {
      if (finished) return;
      if (p === undefined) return client.abandon();
      try {
        await killRemote(p, sig);
      } catch {
        if (sig === 'SIGKILL') client.abandon();
      }
    });
  };
  return { stdout: client.stdout, stderr, stdin: client.stdin, signal, exited, pid };
}
