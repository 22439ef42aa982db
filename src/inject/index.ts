/** Injectors with rate control and a safety interlock (see README "Injectors"). */

export { L2Injector, type L2InjectorOptions } from './l2.ts';
export { afpacketHelper } from './native.ts';
export { type InjectPlan, Pacer, planInjection } from './plan.ts';
export { assertFitsMtu, type InterfaceInfo, interfaceInfo, requireRoot, requireTool } from './preflight.ts';
export { RawInjector, type RawInjectorOptions } from './raw.ts';
export {
  assertNotHostNamespace,
  assertSafeDestinations,
  DestinationGuard,
  type SafetyOptions,
} from './safety.ts';
export {
  assertTcpreplayCanSend,
  parseTcpreplayStats,
  parseTcpreplayVersion,
  TcpreplayInjector,
  type TcpreplayInjectorOptions,
} from './tcpreplay.ts';
export type {
  FrameKind,
  FrameSource,
  InjectOptions,
  Injector,
  InjectProgress,
  InjectStats,
} from './types.ts';
export { framesFromList } from './types.ts';
