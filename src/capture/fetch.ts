/**
 * Copy a file from wherever a transport runs commands (a namespace, a container, an SSH host) to a local
 * path, as bytes: `cat FILE` streamed through the transport's stdout, never through a string. For backends
 * whose capture file appears only at stop() (VPP writes its pcap trace under its own /tmp).
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ChainprobeError } from '../errors.ts';
import type { Transport } from '../transport/transport.ts';

export async function fetchFile(
  transport: Transport,
  remotePath: string,
  localPath: string,
): Promise<number> {
  const proc = transport.spawn(['cat', '--', remotePath]);
  let stderr = '';
  proc.stderr.on('data', (c: Buffer | string) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  let bytes = 0;
  proc.stdout.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  const [, status] = await Promise.all([
    pipeline(proc.stdout, createWriteStream(localPath, { mode: 0o600 })),
    proc.exited,
  ]);
  if (status.exitCode !== 0)
    throw new ChainprobeError(
      'E_CAPTURE_FAILED',
      `cannot fetch ${remotePath} from ${transport.description}: ${stderr.trim() || `exit ${status.exitCode ?? status.signal}`}`,
    );
  return bytes;
}
