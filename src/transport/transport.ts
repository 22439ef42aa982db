/**
 * A transport runs a command at a place (this host, a network namespace, a container, an SSH host),
 * always from an argument array, and hands back its output streams plus a way to signal and reap it.
 */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGKILL';

export interface RunOptions {
  /** Kill the command (and everything it started, where the transport can) after this long → E_TIMEOUT. */
  timeoutMs?: number;
  input?: string | Uint8Array;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface SpawnOptions {
  /** Open a writable stdin (otherwise the command reads EOF / nothing). */
  stdin?: boolean;
}

export interface ExitStatus {
  /** null when the process died from a signal. */
  exitCode: number | null;
  signal: string | null;
}

export interface RemoteProcess {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  stdin?: NodeJS.WritableStream;
  /** Deliver a signal to the process itself (not merely to a local client such as `ssh` or `docker`). */
  signal(sig: StopSignal): void;
  /** Resolves when the process is reaped; rejects only if it could not be started (E_MISSING_TOOL, E_TRANSPORT). */
  exited: Promise<ExitStatus>;
}

export interface Transport {
  /** Where commands run, without secrets: "netns rc-sec", "ssh root@10.0.0.5:22", "docker vpp-security". */
  readonly description: string;
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  spawn(argv: string[], opts?: SpawnOptions): RemoteProcess;
  close(): Promise<void>;
}

export const DEFAULT_RUN_TIMEOUT_MS = 30_000;
