/** Injectors with rate control and a safety interlock (see README "Injectors"). */
export type { FrameKind, FrameSource, InjectOptions, InjectProgress, InjectStats, Injector } from './types.ts';
export { framesFromList } from './types.ts';
export { planInjection, Pacer, type InjectPlan } from './plan.ts';
export { DestinationGuard, assertSafeDestinations, assertNotHostNamespace, type SafetyOptions } from './safety.ts';
export { requireRoot, requireTool, interfaceInfo, assertFitsMtu, type InterfaceInfo } from './preflight.ts';
export { L2Injector, type L2InjectorOptions } from './l2.ts';
export { RawInjector, type RawInjectorOptions } from './raw.ts';
export {
  TcpreplayInjector,
  type TcpreplayInjectorOptions,
  parseTcpreplayStats,
  parseTcpreplayVersion,
  assertTcpreplayCanSend,
} from './tcpreplay.ts';
export { afpacketHelper } from './native.ts';
