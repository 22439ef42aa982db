/** clock: offsets of several hosts' clocks against the analysing host, and latencies corrected with them. */
export {
  onReferenceClock,
  type PointClock,
  pairUncertaintyNs,
  qualifyLatencies,
  qualifyLatency,
} from './correct.ts';
export { ClockTrack } from './drift.ts';
export { type ClockHelper, exchangeClockOffset, registerClockHelper } from './exchange.ts';
export { offsetFromMinimumDelays } from './min-delay.ts';
export { type ClockOffset, formatOffset, intersectOffsets, SAME_CLOCK } from './offset.ts';
export { type OneWayDelays, oneWayDelays } from './pairs.ts';
