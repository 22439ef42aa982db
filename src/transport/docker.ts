/**
 * Commands inside a running container: `docker [-H HOST] exec [-i] CONTAINER sh -c '…' sh ARGV…`.
 * The process is stopped by pid through a second `docker exec … kill` (see remote-process.ts), because
 * signalling the docker CLI does not reach the exec'd process.
 */
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { ChainprobeError } from '../errors.ts';
import { spawnLocal } from './local-process.ts';
import { pidAnnouncingArgv, withRemotePid } from './remote-process.ts';
import { runCollected } from './run.ts';
import type {
  RemoteProcess,
  RunOptions,
  RunResult,
  SpawnOptions,
  StopSignal,
  Transport,
} from './transport.ts';

export interface DockerTarget {
  container: string;
  /** e.g. unix:///run/docker.sock; default: DOCKER_HOST or the CLI's default. */
  dockerHost?: string;
}

export class DockerTransport implements Transport {
  readonly description: string;
  private readonly cli: string[];

  constructor(private readonly target: DockerTarget) {
    this.description = `docker ${target.container}`;
    this.cli = target.dockerHost ? ['-H', target.dockerHost] : [];
  }

  run(argv: string[], opts?: RunOptions): Promise<RunResult> {
    return runCollected(this, argv, opts);
  }

  spawn(argv: string[], opts: SpawnOptions = {}): RemoteProcess {
    let remotePid: number | undefined;
    const local = spawnLocal(
      [
        'docker',
        ...this.cli,
        'exec',
        ...(opts.stdin ? ['-i'] : []),
        this.target.container,
        ...pidAnnouncingArgv(argv),
      ],
      {
        stdin: opts.stdin,
        description: this.description,
        // On harness exit the CLI dies with us but the exec'd process would not: kill it synchronously.
        onExitKill: () => {
          if (remotePid !== undefined)
            spawnSync(
              'docker',
              [...this.cli, 'exec', this.target.container, 'kill', '-s', 'KILL', String(remotePid)],
              { timeout: 3000, stdio: 'ignore' },
            );
        },
      },
    );
    const proc = withRemotePid(
      {
        stdout: local.stdout,
        stderr: local.stderr,
        stdin: local.stdin,
        exited: local.exited,
        abandon: () => local.signal('SIGKILL'),
      },
      (pid, sig) => this.kill(pid, sig),
      this.description,
      argv,
    );
    void proc.pid.then((p) => (remotePid = p));
    return proc;
  }

  private async kill(pid: number, sig: StopSignal): Promise<void> {
    await execa(
      'docker',
      [...this.cli, 'exec', this.target.container, 'kill', '-s', sig.slice(3), String(pid)],
      { timeout: 10_000 },
    );
  }

  async close(): Promise<void> {}
}

export async function openDocker(target: DockerTarget): Promise<DockerTransport> {
  const cli = target.dockerHost ? ['-H', target.dockerHost] : [];
  const r = await execa(
    'docker',
    [...cli, 'inspect', '--type', 'container', '-f', '{{.State.Status}}', target.container],
    {
      reject: false,
      timeout: 15_000,
    },
  );
  const where = `docker container "${target.container}"${target.dockerHost ? ` at ${target.dockerHost}` : ''}`;
  if ((r as { code?: string }).code === 'ENOENT')
    throw new ChainprobeError('E_MISSING_TOOL', 'the docker CLI is not installed');
  if (r.timedOut)
    throw new ChainprobeError('E_TIMEOUT', `docker inspect of ${where} did not answer within 15 s`);
  const stderr = String(r.stderr);
  if (/Cannot connect to the Docker daemon|error during connect|connection refused/i.test(stderr))
    throw new ChainprobeError('E_UNREACHABLE', `docker engine not reachable for ${where}: ${stderr.trim()}`);
  if (/permission denied/i.test(stderr))
    throw new ChainprobeError(
      'E_NO_PRIVILEGE',
      `no permission to use the docker engine for ${where}: ${stderr.trim()}`,
    );
  if (r.exitCode !== 0 || /No such/i.test(stderr))
    throw new ChainprobeError('E_UNREACHABLE', `${where} does not exist`, true, { stderr: stderr.trim() });
  const status = String(r.stdout).trim();
  if (status !== 'running')
    throw new ChainprobeError('E_UNREACHABLE', `${where} is not running (status: ${status})`, false, {
      status,
    });
  return new DockerTransport(target);
}
