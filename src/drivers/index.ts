/** Lab drivers: one ChainDriver per kind of chain, chosen by the profile's `driver`. */
export type { CounterDelta, CounterSnapshot } from './counters.ts';
export { counterDelta } from './counters.ts';
export type {
  CapturePlace,
  ChainDriver,
  DriverDownResult,
  DriverStatus,
  DriverUpOptions,
  DriverUpResult,
  DriverVerb,
  HopStatus,
  HopTrace,
  InterfaceStatus,
} from './driver.ts';
export { requireFaultKind, requireVerb, supportedVerbs } from './driver.ts';
export type { ActiveFault, Fault, FaultKind } from './fault.ts';
export { describeFault, FAULT_KINDS, validateFault } from './fault.ts';
export type { ChainLock, LockHolder, LockOptions } from './lock.ts';
export { acquireChainLock, chainLockHolder, describeHolder, withChainLock } from './lock.ts';
/** The embedded reference chain's profile: what `chain` verbs, `run` and the fixtures use when given none. */
export { DEFAULT_PROFILE_PATH, defaultProfile } from './refchain/index.ts';
export { type DriverFactory, driverFor, driverNames, registerDriver } from './registry.ts';
