/**
 * `run` for every transport, built on its `spawn`: collect output, feed input, enforce the timeout by
 * killing the process itself (not just the local client), and reap it before returning.
 */
import { constants } from 'node:os';
import { ChainprobeError } from '../errors.ts';
import { DEFAULT_RUN_TIMEOUT_MS, type RunOptions, type RunResult, type Transport } from './transport.ts';

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

export async function runCollected(
  transport: Pick<Transport, 'spawn' | 'description'>,
  argv: string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  const proc = transport.spawn(argv, { stdin: opts.input !== undefined });
  if (opts.input !== undefined && proc.stdin) {
    proc.stdin.on('error', () => {}); // the command may exit without reading its input
    proc.stdin.end(typeof opts.input === 'string' ? opts.input : Buffer.from(opts.input));
  }
  const out = collect(proc.stdout);
  const err = collect(proc.stderr);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.signal('SIGKILL');
  }, timeoutMs);
  try {
    const status = await proc.exited;
    // Output streams can outlive the exit briefly (remote channels); bound the wait.
    const [stdout, stderr] = await Promise.race([
      Promise.all([out, err]),
      new Promise<[string, string]>((r) => setTimeout(() => r(['', '']), 5000).unref()),
    ]);
    if (timedOut)
      throw new ChainprobeError(
        'E_TIMEOUT',
        `${argv[0]} did not finish within ${timeoutMs} ms (${transport.description})`,
        false,
        {
          argv,
          stdout: stdout.slice(-2000),
          stderr: stderr.slice(-2000),
        },
      );
    return { stdout, stderr, exitCode: status.exitCode ?? 128 + signalNumber(status.signal) };
  } finally {
    clearTimeout(timer);
  }
}

function signalNumber(sig: string | null): number {
  // Shell convention: a command killed by signal N "exits" 128 + N.
  return (sig && (constants.signals as Record<string, number>)[sig]) || 0;
}
