/**
 * Commands on an SSH host through ssh2. The host key is always verified (known_hosts or a pinned SHA256
 * fingerprint) before authentication, so nothing runs on an unverified host. Commands travel as one
 * string built by quoting each argv element (quote.ts); they are wrapped so their pid is known and a stop
 * is a second `kill` exec (remote-process.ts), which works on every OpenSSH and under sudo.
 */
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import ssh2 from 'ssh2';
import { ChainprobeError } from '../errors.ts';
import {
  checkKnownHost,
  fingerprintSha256,
  fingerprintsEqual,
  keyTypeOf,
  parseKnownHosts,
} from './known-hosts.ts';
import { shellCommand } from './quote.ts';
import { trackProcess } from './registry.ts';
import { pidAnnouncingArgv, withRemotePid } from './remote-process.ts';
import { runCollected } from './run.ts';
import type {
  ExitStatus,
  RemoteProcess,
  RunOptions,
  RunResult,
  SpawnOptions,
  StopSignal,
  Transport,
} from './transport.ts';

export interface SshTarget {
  host: string;
  port?: number;
  username: string;
  privateKeyPath?: string;
  knownHostsPath?: string;
  hostKeyFingerprint?: string;
  sudo?: boolean;
  readyTimeoutMs?: number;
  /** Seconds between keepalives; the link is declared dead after 3 unanswered ones. */
  keepaliveIntervalMs?: number;
}

type HostKeyCheck = (key: Buffer) => ChainprobeError | undefined;

async function hostKeyCheck(t: SshTarget, port: number): Promise<HostKeyCheck> {
  const where = `${t.host}:${port}`;
  if (t.hostKeyFingerprint) {
    const pinned = t.hostKeyFingerprint;
    return (key) => {
      const got = fingerprintSha256(key);
      return fingerprintsEqual(got, pinned)
        ? undefined
        : new ChainprobeError(
            'E_HOST_KEY',
            `host key of ${where} is ${keyTypeOf(key)} ${got}, not the pinned ${pinned}`,
            true,
            { presented: got },
          );
    };
  }
  if (!t.knownHostsPath)
    throw new ChainprobeError(
      'E_HOST_KEY',
      `no knownHostsPath or hostKeyFingerprint for ${where}: host keys are always verified`,
      true,
    );
  let text: string;
  try {
    text = await readFile(t.knownHostsPath, 'utf8');
  } catch (e) {
    throw new ChainprobeError(
      'E_HOST_KEY',
      `cannot read known_hosts ${t.knownHostsPath}: ${(e as Error).message}`,
      true,
    );
  }
  const entries = parseKnownHosts(text);
  return (key) => {
    const v = checkKnownHost(entries, t.host, port, key);
    if (v.ok) return undefined;
    const fp = `${keyTypeOf(key)} ${fingerprintSha256(key)}`;
    const msg =
      v.reason === 'unknown'
        ? `host ${where} is not in ${t.knownHostsPath} (it presented ${fp})`
        : v.reason === 'revoked'
          ? `host key of ${where} (${fp}) is @revoked in ${t.knownHostsPath}`
          : `HOST KEY MISMATCH for ${where}: it presented ${fp}, which does not match ${t.knownHostsPath} line(s) ${v.lines.join(', ')}`;
    return new ChainprobeError('E_HOST_KEY', msg, false, {
      presented: fingerprintSha256(key),
      reason: v.reason,
    });
  };
}

function connectError(
  e: Error & { level?: string; code?: string },
  where: string,
  timeoutMs: number,
): ChainprobeError {
  if (e.level === 'client-authentication')
    return new ChainprobeError(
      'E_AUTH',
      `authentication to ${where} failed (key or agent not accepted)`,
      false,
    );
  if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT')
    return new ChainprobeError('E_TIMEOUT', `no SSH handshake with ${where} within ${timeoutMs} ms`);
  if (
    e.code &&
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(e.code)
  )
    return new ChainprobeError('E_UNREACHABLE', `cannot reach SSH at ${where}: ${e.code}`, false, {
      code: e.code,
    });
  return new ChainprobeError('E_TRANSPORT', `SSH to ${where} failed: ${e.message}`);
}

export class SshTransport implements Transport {
  readonly description: string;
  private closed = false;
  private readonly prefix: string[];

  constructor(
    private readonly conn: ssh2.Client,
    t: SshTarget,
    port: number,
  ) {
    this.description = `ssh ${t.username}@${t.host}:${port}${t.sudo ? ' (sudo)' : ''}`;
    this.prefix = t.sudo ? ['sudo', '-n', '--'] : [];
    conn.on('close', () => (this.closed = true));
    conn.on('error', () => {}); // reported through channels / exited; an unhandled 'error' would crash the harness
  }

  run(argv: string[], opts?: RunOptions): Promise<RunResult> {
    return runCollected(this, argv, opts);
  }

  spawn(argv: string[], opts: SpawnOptions = {}): RemoteProcess {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = opts.stdin ? new PassThrough() : undefined;
    let channel: ClientChannel | undefined;
    const command = shellCommand([...this.prefix, ...pidAnnouncingArgv(argv)]);
    const exited = new Promise<ExitStatus>((resolve, reject) => {
      if (this.closed)
        return reject(new ChainprobeError('E_UNREACHABLE', `SSH connection ${this.description} is closed`));
      const onConnClose = () =>
        reject(
          new ChainprobeError(
            'E_UNREACHABLE',
            `SSH connection ${this.description} was lost while ${argv[0]} ran`,
          ),
        );
      this.conn.once('close', onConnClose);
      this.conn.exec(command, (err, ch) => {
        if (err) {
          this.conn.removeListener('close', onConnClose);
          stdout.end();
          stderr.end();
          return reject(
            new ChainprobeError(
              'E_TRANSPORT',
              `cannot start ${argv[0]} over ${this.description}: ${err.message}`,
            ),
          );
        }
        channel = ch;
        let status: ExitStatus = { exitCode: null, signal: null };
        ch.on('exit', (code: number | null, sig?: string) => {
          status = {
            exitCode: typeof code === 'number' ? code : null,
            signal: sig ? `SIG${sig.replace(/^SIG/, '')}` : null,
          };
        });
        ch.on('close', () => {
          this.conn.removeListener('close', onConnClose);
          resolve(status);
        });
        ch.pipe(stdout);
        ch.stderr.pipe(stderr);
        if (stdin) stdin.pipe(ch);
        else ch.end(); // EOF on the remote stdin, as 'ignore' would
      });
    });
    exited.catch(() => {});
    const proc = withRemotePid(
      { stdout, stderr, stdin, exited, abandon: () => channel?.close() },
      (pid, sig) => this.kill(pid, sig),
      this.description,
      argv,
    );
    // Async stop on SIGINT/SIGTERM of the harness; on plain exit the socket closes and the remote
    // process gets SIGPIPE at its next write (OpenSSH does not kill non-pty commands on disconnect).
    let remotePid: number | undefined;
    void proc.pid.then((p) => (remotePid = p));
    const untrack = trackProcess({
      description: `${this.description}: ${argv.join(' ')}`,
      killNow: () => channel?.close(),
      kill: async () => {
        if (remotePid !== undefined) await this.kill(remotePid, 'SIGKILL').catch(() => {});
      },
    });
    proc.exited.then(untrack, untrack);
    return proc;
  }

  private kill(pid: number, sig: StopSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed)
        return reject(new ChainprobeError('E_UNREACHABLE', `SSH connection ${this.description} is closed`));
      const timer = setTimeout(
        () => reject(new ChainprobeError('E_TIMEOUT', `kill over ${this.description} timed out`)),
        10_000,
      );
      this.conn.exec(shellCommand([...this.prefix, 'kill', '-s', sig.slice(3), String(pid)]), (err, ch) => {
        if (err) {
          clearTimeout(timer);
          return reject(err);
        }
        ch.resume();
        ch.stderr.resume();
        ch.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      this.conn.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.conn.end();
    });
  }
}

export async function openSsh(t: SshTarget): Promise<SshTransport> {
  const port = t.port ?? 22;
  const where = `${t.username}@${t.host}:${port}`;
  const readyTimeout = t.readyTimeoutMs ?? 10_000;
  const check = await hostKeyCheck(t, port);
  const cfg: ConnectConfig = {
    host: t.host,
    port,
    username: t.username,
    readyTimeout,
    keepaliveInterval: t.keepaliveIntervalMs ?? 5000,
    keepaliveCountMax: 3,
  };
  if (t.privateKeyPath) {
    try {
      cfg.privateKey = await readFile(t.privateKeyPath);
    } catch (e) {
      throw new ChainprobeError(
        'E_AUTH',
        `cannot read private key ${t.privateKeyPath}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
        true,
      );
    }
  } else if (process.env.SSH_AUTH_SOCK) {
    cfg.agent = process.env.SSH_AUTH_SOCK;
  } else {
    throw new ChainprobeError(
      'E_AUTH',
      `no privateKeyPath for ${where} and no SSH agent (SSH_AUTH_SOCK unset)`,
      true,
    );
  }
  const conn = new ssh2.Client();
  // ssh2 can emit a second error after the first (e.g. "Connection lost before handshake" after a timeout):
  // the first one decides; later ones must not become uncaught exceptions.
  conn.on('error', () => {});
  let hostKeyError: ChainprobeError | undefined;
  cfg.hostVerifier = (key: Buffer) => {
    hostKeyError = check(key);
    return hostKeyError === undefined;
  };
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error & { level?: string; code?: string }) => {
      conn.removeListener('ready', onReady);
      conn.end();
      reject(hostKeyError ?? connectError(e, where, readyTimeout));
    };
    const onReady = () => {
      conn.removeListener('error', onError);
      resolve();
    };
    conn.once('ready', onReady);
    conn.once('error', onError);
    try {
      conn.connect(cfg);
    } catch (e) {
      // ssh2 throws synchronously for an unparseable key; the message never contains the key itself.
      conn.removeListener('error', onError);
      reject(
        new ChainprobeError(
          'E_AUTH',
          `cannot use private key ${t.privateKeyPath}: ${(e as Error).message}`,
          true,
        ),
      );
    }
  });
  return new SshTransport(conn, t, port);
}
