/**
 * The search's `measure(rate, duration)` over a ChainSession: one trial per call, captured at the last
 * capture point only (loss needs sent — from the injector — and delivered; one tcpdump instead of one per
 * point, nothing to decrypt). Sent and delivered probes come from the analysis, the achieved rate from the
 * sender's own clock, and every reason a trial cannot be judged makes it invalid rather than lossy: the
 * injector fell short (duration stretching), the kernel refused frames, a capture point dropped packets or
 * failed (its missing probes are capture loss, never chain loss).
 */
import { ChainprobeError } from '../errors.ts';
import type { ChainSession, SessionTrial } from '../run/session.ts';
import { judgeTrial, type Measure, type Trial } from './search.ts';

const CAPTURE_FAILURES = new Set(['E_CAPTURE_FAILED', 'E_PCAP_MALFORMED']);

export function sessionMeasure(
  session: ChainSession,
  payloadBytes: number[],
  onOutcome?: (t: Trial, s: SessionTrial) => void,
): Measure {
  return async (ratePps, durationS) => {
    let s: SessionTrial;
    try {
      s = await session.trial({ ratePps, durationS, payloadBytes, points: 'last' });
    } catch (e) {
      if (!(e instanceof ChainprobeError) || !CAPTURE_FAILURES.has(e.code)) throw e;
      return captureFailedTrial(ratePps, durationS, e);
    }
    // The session's own send cap also aborts (a stretched trial, judged invalid below); the user's does not.
    if (s.inject.aborted && session.options.signal?.aborted)
      throw new ChainprobeError('E_ABORTED', 'the trial was interrupted');
    const t = trialFromOutcome(ratePps, durationS, s);
    onOutcome?.(t, s);
    return t;
  };
}

/** A search trial from one analysed run: validity from the sender and the capture counters. */
function trialFromOutcome(offeredPps: number, durationS: number, s: SessionTrial): Trial {
  const { inject, results } = s;
  const base = {
    offeredPps,
    durationS,
    achievedPps: inject.achievedPpsSender,
    elapsedS: inject.elapsedNs / 1e9,
    sent: inject.sent,
    delivered: results.delivered,
    runId: s.runId,
  };
  const judged = judgeTrial(base);
  const reasons = judged.invalidReason ? [judged.invalidReason] : [];
  if (inject.failed > 0) reasons.push(`the kernel refused ${inject.failed} frames`);
  const dropping = results.captureDrops.filter((c) => c.flagged);
  if (dropping.length)
    reasons.push(
      `capture point${dropping.length > 1 ? 's' : ''} ${dropping.map((c) => `"${c.capture}" (${c.droppedByKernel ?? '?'} dropped)`).join(', ')} lost packets: capture loss, not chain loss`,
    );
  return reasons.length
    ? { ...base, lossRatio: judged.lossRatio, valid: false, invalidReason: reasons.join('; ') }
    : { ...base, lossRatio: judged.lossRatio, valid: true };
}

function captureFailedTrial(offeredPps: number, durationS: number, e: ChainprobeError): Trial {
  return {
    offeredPps,
    durationS,
    achievedPps: 0,
    elapsedS: 0,
    sent: 0,
    delivered: 0,
    lossRatio: 0,
    valid: false,
    invalidReason: `the capture failed (${e.code}: ${e.message}): capture loss, not chain loss`,
  };
}
