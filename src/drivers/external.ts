/**
 * A chain chainprobe measures but does not manage (someone else brings it up, keys are given with
 * --sa-key): no verbs, no faults, no counters. `chain` verbs on its profile say so (exit 2).
 */
import type { Profile } from '../chain/profile.ts';
import type { ChainDriver } from './driver.ts';
import type { ActiveFault } from './fault.ts';

export class ExternalDriver implements ChainDriver {
  readonly name = 'external';
  readonly faultKinds = [] as const;
  readonly lockName: string;

  constructor(readonly profile: Profile) {
    this.lockName = `external-${profile.name}`;
  }

  async activeFaults(): Promise<ActiveFault[]> {
    return [];
  }
}
