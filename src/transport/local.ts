/**
 * Commands on this host, optionally behind a fixed prefix: `ip netns exec NS` for the netns transport.
 */
import { spawnLocal } from './local-process.ts';
import { runCollected } from './run.ts';
import type {
  ExitStatus,
  RemoteProcess,
  RunOptions,
  RunResult,
  SpawnOptions,
  Transport,
} from './transport.ts';

export class LocalTransport implements Transport {
  constructor(
    readonly description = 'local',
    private readonly prefix: string[] = [],
    private readonly missingTool?: (status: ExitStatus, stderr: string) => boolean,
  ) {}

  run(argv: string[], opts?: RunOptions): Promise<RunResult> {
    return runCollected(this, argv, opts);
  }

  spawn(argv: string[], opts: SpawnOptions = {}): RemoteProcess {
    return spawnLocal([...this.prefix, ...argv], {
      ...opts,
      description: this.description,
      missingTool: this.missingTool,
    });
  }

  async close(): Promise<void> {}
}
