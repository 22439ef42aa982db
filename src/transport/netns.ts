/**
 * Commands inside a network namespace: `ip netns exec NS argv…`. `ip` execs the command in place, and the
 * process group is killed as a whole, so a stop reaches whatever the command forked.
 */
import { execa } from 'execa';
import { ChainprobeError } from '../errors.ts';
import { LocalTransport } from './local.ts';

export async function listNamespaces(): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { reject: false, timeout: 10_000 });
  if ((r as { code?: string }).code === 'ENOENT')
    throw new ChainprobeError('E_MISSING_TOOL', 'ip (iproute2) is not installed');
  // Lines look like "rc-sec (id: 3)" or just "rc-sec".
  return String(r.stdout)
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

export async function openNetns(namespace: string): Promise<LocalTransport> {
  if (process.getuid?.() !== 0)
    throw new ChainprobeError(
      'E_NO_PRIVILEGE',
      `entering network namespace "${namespace}" needs root (ip netns exec)`,
    );
  const names = await listNamespaces();
  if (!names.includes(namespace))
    throw new ChainprobeError(
      'E_UNREACHABLE',
      `network namespace "${namespace}" does not exist (have: ${names.join(', ') || 'none'})`,
      true,
      {
        namespace,
      },
    );
  // ip reports a failed exec as `exec of "X" failed: No such file or directory` (exit 1 or 255 by version).
  return new LocalTransport(
    `netns ${namespace}`,
    ['ip', 'netns', 'exec', namespace],
    (s, stderr) => s.exitCode !== 0 && /^exec of ".*" failed: No such file or directory/m.test(stderr),
  );
}
