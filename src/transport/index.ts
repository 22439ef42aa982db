/** Transports: run a command at a place (local, netns, docker, ssh). */
import type { TransportSpec } from '../chain/profile.ts';
import { openDocker } from './docker.ts';
import { LocalTransport } from './local.ts';
import { openNetns } from './netns.ts';
import { openSsh } from './ssh.ts';
import type { Transport } from './transport.ts';

export { DockerTransport, openDocker } from './docker.ts';
export { checkKnownHost, fingerprintSha256, knownHostsName, parseKnownHosts } from './known-hosts.ts';
export { LocalTransport } from './local.ts';
export { openNetns } from './netns.ts';
export { shellCommand, shellQuote } from './quote.ts';
export { killAllProcesses, liveProcesses } from './registry.ts';
export { openSsh, SshTransport } from './ssh.ts';
export type {
  ExitStatus,
  RemoteProcess,
  RunOptions,
  RunResult,
  SpawnOptions,
  StopSignal,
  Transport,
} from './transport.ts';

/** Open the transport a profile's hop or injector names. Checks reachability up front (namespace exists,
 *  container running, SSH host key verified and authenticated). */
export async function openTransport(spec: TransportSpec): Promise<Transport> {
  switch (spec.kind) {
    case 'local':
      return new LocalTransport();
    case 'netns':
      return openNetns(spec.namespace);
    case 'docker':
      return openDocker({ container: spec.container, dockerHost: spec.dockerHost });
    case 'ssh':
      return openSsh(spec);
  }
}
