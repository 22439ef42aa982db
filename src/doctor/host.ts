/**
 * Where a tunnel end lives, as the user names it on the command line: `netns:NAME`, `docker:CONTAINER`,
 * `ssh:USER@HOST[:PORT]`. Parsed into the profile's TransportSpec and opened with the project's transports,
 * so doctor reaches a host exactly as captures and injectors do.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TransportSpec } from '../chain/profile.ts';
import { ChainprobeError } from '../errors.ts';
import { openTransport } from '../transport/index.ts';
import type { Transport } from '../transport/transport.ts';

export interface SshDefaults {
  /** known_hosts file for ssh: hosts (default ~/.ssh/known_hosts); host keys are always verified */
  knownHostsPath?: string;
  privateKeyPath?: string;
  sudo?: boolean;
}

const badHost = (text: string, why: string) =>
  new ChainprobeError(
    'E_CONFIG',
    `host "${text}": ${why} (expected netns:NAME, docker:CONTAINER or ssh:USER@HOST[:PORT])`,
    true,
  );

export function parseHost(text: string, ssh: SshDefaults = {}): TransportSpec {
  const m = /^(netns|docker|ssh):(.+)$/.exec(text);
  if (!m) throw badHost(text, 'unknown kind');
  const [, kind, rest] = m;
  let spec: unknown;
  if (kind === 'netns') spec = { kind, namespace: rest };
  else if (kind === 'docker') spec = { kind, container: rest };
  else {
    const s = /^([^@\s]+)@([^:\s]+)(?::(\d+))?$/.exec(rest);
    if (!s) throw badHost(text, 'an SSH host is USER@HOST[:PORT]');
    spec = {
      kind,
      username: s[1],
      host: s[2],
      port: s[3] ? Number(s[3]) : 22,
      knownHostsPath: ssh.knownHostsPath ?? join(homedir(), '.ssh', 'known_hosts'),
      ...(ssh.privateKeyPath ? { privateKeyPath: ssh.privateKeyPath } : {}),
      sudo: ssh.sudo ?? false,
    };
  }
  const parsed = TransportSpec.safeParse(spec);
  if (!parsed.success) throw badHost(text, parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

export interface Host {
  /** as given: "netns:dr-aws" */
  name: string;
  spec: TransportSpec;
  transport: Transport;
}

export async function openHost(name: string, ssh?: SshDefaults): Promise<Host> {
  const spec = parseHost(name, ssh);
  return { name, spec, transport: await openTransport(spec) };
}
